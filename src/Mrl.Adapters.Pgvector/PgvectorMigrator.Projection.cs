using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace Mrl.Adapters.Pgvector;

// A projected key: fitting it on a sample of the table, and reading back the projection the table's key is computed with.
public sealed partial class PgvectorMigrator
{
    /// <summary>
    /// Fits a projection on a sample of the table's full vectors (<see cref="ProjectionFitter"/>): a seeded Bernoulli sample of
    /// about <paramref name="sampleSize"/> rows of the full dimensions. The projection's version is one above the highest one
    /// the table's projection table holds, so that a refit never reuses the version of keys already computed.
    /// </summary>
    /// <exception cref="PgvectorMigrationException">The table or its vector column does not exist, or the sample has fewer rows than <paramref name="prefixDimensions"/>.</exception>
    public static async Task<PrefixProjection> FitProjectionAsync(NpgsqlDataSource dataSource, PgvectorStoreOptions options, int prefixDimensions, DistanceMetric metric,
        int sampleSize = ProjectionFitter.DefaultSampleSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleSize, 1);
        var fullDimensions = await ReadFullDimensionsAsync(dataSource, options, cancellationToken).ConfigureAwait(false);
        ArgumentOutOfRangeException.ThrowIfLessThan(prefixDimensions, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixDimensions, fullDimensions);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var (_, vectorSchema) = await PgvectorTableState.ReadExtensionAsync(connection, cancellationToken).ConfigureAwait(false);
        var (values, count) = await ReadSampleAsync(connection, options, vectorSchema, fullDimensions, sampleSize, cancellationToken).ConfigureAwait(false);
        if (count < prefixDimensions)
        {
            throw new PgvectorMigrationException(SqlIdentifier.Qualified(options.Schema, options.Table), [string.Create(CultureInfo.InvariantCulture,
                $"A projection of {prefixDimensions} directions needs a sample of at least as many vectors of {fullDimensions} dimensions; the table gave {count}.")]);
        }

        var version = (await ReadLatestProjectionVersionAsync(connection, options, cancellationToken).ConfigureAwait(false) ?? 0) + 1;
        return await Task.Run(() => ProjectionFitter.Fit(values, fullDimensions, prefixDimensions, metric, version, cancellationToken: cancellationToken), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Reads a seeded Bernoulli sample of about <paramref name="sampleSize"/> of the table's vectors of <paramref name="fullDimensions"/>
    /// dimensions (the same rows on a rerun over an unchanged table), row-major, and how many rows it holds.
    /// </summary>
    private static async Task<(float[] Values, int Rows)> ReadSampleAsync(
        NpgsqlConnection connection, PgvectorStoreOptions options, string vectorSchema, int fullDimensions, int sampleSize, CancellationToken cancellationToken)
    {
        var table = SqlIdentifier.Qualified(options.Schema, options.Table);
        double percent = 100;
        await using (var estimate = new NpgsqlCommand(PgvectorCatalog.EstimatedRows, connection))
        {
            estimate.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
            if (await estimate.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is float rows && rows > 0)
            {
                // A quarter more than needed, as the estimate is rough and some rows have no vector of this size.
                percent = Math.Min(100, 125.0 * sampleSize / rows);
            }
        }

        var sample = new List<float>(Math.Min(sampleSize, 100_000) * fullDimensions);
        var count = 0;
        await using var read = new NpgsqlCommand(PgvectorCatalog.VectorSample(table, options.VectorColumn, vectorSchema, fullDimensions, options.ScopeColumn), connection) { CommandTimeout = 0 };
        read.Parameters.Add(new NpgsqlParameter<double> { TypedValue = percent });
        read.Parameters.Add(new NpgsqlParameter<double> { TypedValue = 1 });
        read.Parameters.Add(new NpgsqlParameter<long> { TypedValue = sampleSize });
        if (options.ScopeColumn is not null)
        {
            read.Parameters.Add(new NpgsqlParameter<string> { TypedValue = options.ScopeValue! });
        }

        await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            sample.AddRange(reader.GetFieldValue<float[]>(0));
            count++;
        }

        return (sample.ToArray(), count);
    }

    /// <summary>
    /// The projection the table's prefix function computes the key with, read from the projection table; null when the table's
    /// key is a truncated prefix or it has none yet. The version is the one the function names: a refit stored beside it but
    /// not switched to yet is not it.
    /// </summary>
    public static async Task<PrefixProjection?> ReadProjectionAsync(NpgsqlDataSource dataSource, PgvectorStoreOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ReadProjectionVersionAsync(connection, options, cancellationToken).ConfigureAwait(false) is { } version
            ? await ReadProjectionAsync(connection, options, version, cancellationToken).ConfigureAwait(false)
            : null;
    }

    /// <summary>
    /// The layout the table's prefix was migrated with (column mode): the full and key dimensions from its columns, and the
    /// projection from its projection table when the key is projected. A store opened with it needs no matrix from the application.
    /// </summary>
    /// <exception cref="PgvectorMigrationException">The table, its vector column or its prefix column does not exist.</exception>
    public static async Task<EmbeddingLayout> ReadLayoutAsync(NpgsqlDataSource dataSource, PgvectorStoreOptions options, DistanceMetric metric = DistanceMetric.Cosine,
        CancellationToken cancellationToken = default)
    {
        var full = await ReadFullDimensionsAsync(dataSource, options, cancellationToken).ConfigureAwait(false);
        if (await ReadProjectionAsync(dataSource, options, cancellationToken).ConfigureAwait(false) is { } projection)
        {
            return new EmbeddingLayout(projection, metric);
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var columns = new NpgsqlCommand(PgvectorCatalog.Columns, connection);
        columns.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SqlIdentifier.Qualified(options.Schema, options.Table) });
        await using var reader = await columns.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (reader.GetString(0) == options.ResolvedPrefixColumn && reader.GetInt32(3) > 0)
            {
                return new EmbeddingLayout(full, reader.GetInt32(3), metric);
            }
        }

        throw new PgvectorMigrationException(SqlIdentifier.Qualified(options.Schema, options.Table),
            [$"No prefix column '{options.ResolvedPrefixColumn}' with a declared dimension to read the key size from. Migrate the table first, or pass the layout."]);
    }

    /// <summary>The projection version the table's prefix function names in its comment, or null for a truncated prefix or none.</summary>
    internal static async Task<int?> ReadProjectionVersionAsync(NpgsqlConnection connection, PgvectorStoreOptions options, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(PgvectorCatalog.FunctionComment, connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = options.Schema });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = options.PrefixFunctionName });
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string comment
            && ProjectionVersionPattern().Match(comment) is { Success: true } match
            ? int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture)
            : null;
    }

    private static async Task<PrefixProjection> ReadProjectionAsync(NpgsqlConnection connection, PgvectorStoreOptions options, int version, CancellationToken cancellationToken)
    {
        var projectionTable = SqlIdentifier.Qualified(options.Schema, options.ProjectionTableName);
        await using var command = new NpgsqlCommand(PgvectorCatalog.ProjectionDirections(projectionTable), connection);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = version });
        var rows = new List<float[]>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(reader.GetFieldValue<float[]>(0));
            }
        }

        if (rows.Count == 0)
        {
            throw new SchemaMismatchException(string.Create(CultureInfo.InvariantCulture,
                $"The prefix function of {SqlIdentifier.Qualified(options.Schema, options.Table)} computes its key with projection version {version}, but {projectionTable} holds no direction of that version."));
        }

        var columns = rows[0].Length;
        var matrix = new float[rows.Count * columns];
        for (var i = 0; i < rows.Count; i++)
        {
            rows[i].CopyTo(matrix, i * columns);
        }

        return new PrefixProjection(rows.Count, columns, matrix, version);
    }

    private static async Task<int?> ReadLatestProjectionVersionAsync(NpgsqlConnection connection, PgvectorStoreOptions options, CancellationToken cancellationToken)
    {
        await using var exists = new NpgsqlCommand(PgvectorCatalog.RelationExists, connection);
        var projectionTable = SqlIdentifier.Qualified(options.Schema, options.ProjectionTableName);
        exists.Parameters.Add(new NpgsqlParameter<string> { TypedValue = projectionTable });
        if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
        {
            return null;
        }

        await using var latest = new NpgsqlCommand(PgvectorCatalog.LatestProjectionVersion(projectionTable), connection);
        return await latest.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is int version ? version : null;
    }

    [GeneratedRegex(@", projected by .+ version ([0-9]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex ProjectionVersionPattern();
}
