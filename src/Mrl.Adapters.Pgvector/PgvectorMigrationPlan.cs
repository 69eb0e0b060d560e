namespace Mrl.Adapters.Pgvector;

/// <summary>What a preflight found before a migration: whether it can run, what it noticed, and what it would run.</summary>
/// <param name="Problems">What stops the migration, each with what to do instead; empty when it can run.</param>
/// <param name="Notes">What is worth knowing but stops nothing: vectors of several sizes, a partitioned table, an index to rebuild.</param>
/// <param name="Statements">The statements it would run, as psql would show them; empty when there are problems.</param>
/// <param name="UpToDate">Whether the table is already migrated with these parameters (the backfill may still find rows to fill).</param>
public sealed record PgvectorMigrationPlan(IReadOnlyList<string> Problems, IReadOnlyList<string> Notes, IReadOnlyList<string> Statements, bool UpToDate);

/// <summary>What a migration, or its removal, did.</summary>
/// <param name="Changed">Whether anything was changed; false when the table was already as asked.</param>
/// <param name="Notes">What the preflight noticed.</param>
public sealed record PgvectorMigrationResult(bool Changed, IReadOnlyList<string> Notes);

/// <summary>Where a table's migration stands.</summary>
/// <param name="Table">The table, qualified.</param>
/// <param name="TableExists">Whether it exists.</param>
/// <param name="PrefixColumn">The prefix column and its type, or null when there is none (or in expression mode).</param>
/// <param name="TriggerInstalled">Whether the trigger that fills the prefix is on the table.</param>
/// <param name="IndexValid">Whether the prefix index (and every partition's) is valid; null when there is none.</param>
/// <param name="IndexSizeBytes">The prefix index's size, partitions included; null when there is none.</param>
/// <param name="Partitions">How many partitions the table has (0 for a plain table).</param>
/// <param name="RowsWithoutPrefix">Rows of the layout's dimension whose prefix is NULL; null when there is no prefix column.</param>
/// <param name="Rows">Rows in the table; null when not counted.</param>
/// <param name="Plan">What running the migration with these parameters would do.</param>
public sealed record PgvectorMigrationStatus(
    string Table, bool TableExists, string? PrefixColumn, bool TriggerInstalled, bool? IndexValid, long? IndexSizeBytes, int Partitions,
    long? RowsWithoutPrefix, long? Rows, PgvectorMigrationPlan Plan)
{
    /// <summary>Whether running the migration with these parameters would change anything.</summary>
    public bool WouldChange => Plan.Problems.Count == 0 && !(Plan.UpToDate && RowsWithoutPrefix is null or 0);
}
