using Npgsql;

namespace Mrl.Adapters.Pgvector;

/// <summary>
/// Reads and writes the comment of one column: where <c>mrl index</c> records what made a table's vectors. A column comment
/// survives dumps and restores, adds no object to the schema, and is replaced only when it is empty or already carries
/// <see cref="Tag"/>, so a comment that another tool or a person wrote stays as it is.
/// </summary>
internal static class PgvectorColumnComment
{
    /// <summary>The start of every comment this class writes.</summary>
    public const string Tag = "mrl: ";

    /// <summary>The comment of column <c>$2</c> of table <c>$1</c> (qualified name); no row when the column does not exist.</summary>
    private const string Read =
        "SELECT coalesce(pg_catalog.col_description(a.attrelid, a.attnum), '') FROM pg_catalog.pg_attribute a " +
        "WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped";

    // COMMENT takes no parameters; the column and the text travel as transaction-local settings and format() quotes the text
    // with %L, so neither is ever spliced into SQL here.
    private const string SetWriteSettings = "SELECT pg_catalog.set_config('mrl.comment_column', $1, true), pg_catalog.set_config('mrl.comment_text', $2, true)";

    private const string Write =
        "DO $mrl$ BEGIN EXECUTE format('COMMENT ON COLUMN %s IS %L', current_setting('mrl.comment_column'), current_setting('mrl.comment_text')); END $mrl$";

    /// <summary>The text after <see cref="Tag"/> in the column's comment, or null when the column or such a comment is missing.</summary>
    public static async Task<string?> ReadTaggedAsync(NpgsqlDataSource dataSource, string qualifiedTable, string column, CancellationToken cancellationToken)
    {
        var comment = await ReadAsync(dataSource, qualifiedTable, column, cancellationToken).ConfigureAwait(false);
        return comment is not null && comment.StartsWith(Tag, StringComparison.Ordinal) ? comment[Tag.Length..] : null;
    }

    /// <summary>
    /// Sets the column's comment to <see cref="Tag"/> and <paramref name="text"/>; false, changing nothing, when the column is
    /// missing or holds a comment that is not one of ours.
    /// </summary>
    public static async Task<bool> WriteTaggedAsync(NpgsqlDataSource dataSource, string qualifiedTable, string column, string text, CancellationToken cancellationToken)
    {
        var comment = await ReadAsync(dataSource, qualifiedTable, column, cancellationToken).ConfigureAwait(false);
        if (comment is null || (comment.Length > 0 && !comment.StartsWith(Tag, StringComparison.Ordinal)))
        {
            return false;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            var settings = new NpgsqlBatchCommand(SetWriteSettings);
            settings.Parameters.Add(new NpgsqlParameter { Value = qualifiedTable + "." + SqlIdentifier.Quote(column, "column name") });
            settings.Parameters.Add(new NpgsqlParameter { Value = Tag + text });
            batch.BatchCommands.Add(settings);
            batch.BatchCommands.Add(new NpgsqlBatchCommand(Write));
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static async Task<string?> ReadAsync(NpgsqlDataSource dataSource, string qualifiedTable, string column, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Read);
        command.Parameters.Add(new NpgsqlParameter { Value = qualifiedTable });
        command.Parameters.Add(new NpgsqlParameter { Value = column });
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }
}
