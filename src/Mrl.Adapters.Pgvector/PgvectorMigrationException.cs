namespace Mrl.Adapters.Pgvector;

/// <summary>
/// A migration refused to start, or a step failed. The message says what is wrong and what to do; <see cref="Problems"/> lists
/// every problem a preflight found (nothing was changed then), and <see cref="SqlState"/> keeps PostgreSQL's code when a step failed.
/// </summary>
public sealed class PgvectorMigrationException : Exception
{
    /// <summary>Creates the exception for a preflight that found <paramref name="problems"/>.</summary>
    public PgvectorMigrationException(string table, IReadOnlyList<string> problems)
        : base(Describe(table, problems))
    {
        Problems = problems;
    }

    /// <summary>Creates the exception for a step that failed.</summary>
    public PgvectorMigrationException(string message, string? sqlState, Exception? innerException)
        : base(message, innerException)
    {
        SqlState = sqlState;
        Problems = [message];
    }

    /// <summary>Creates the exception with a message.</summary>
    public PgvectorMigrationException(string message)
        : this(message, null, null)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public PgvectorMigrationException(string message, Exception innerException)
        : this(message, (innerException as Npgsql.PostgresException)?.SqlState, innerException)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public PgvectorMigrationException()
        : this("The migration failed.")
    {
    }

    /// <summary>Every problem found; one line each.</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>PostgreSQL's SQLSTATE when a statement failed, e.g. <c>42703</c>; null for a preflight refusal.</summary>
    public string? SqlState { get; }

    private static string Describe(string table, IReadOnlyList<string> problems) => problems.Count == 1
        ? $"Nothing was changed on {table}: {problems[0]}"
        : $"Nothing was changed on {table}; {problems.Count} problems:" + string.Concat(problems.Select(p => "\n  - " + p));
}
