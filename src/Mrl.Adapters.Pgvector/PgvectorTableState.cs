using System.Globalization;
using Npgsql;

namespace Mrl.Adapters.Pgvector;

/// <summary>A column: its type, the type's schema, and its type modifier (the declared dimension of a vector; -1 when none).</summary>
internal sealed record ColumnState(string Type, string TypeSchema, int Modifier);

/// <summary>A user trigger of the table and the function it calls.</summary>
internal sealed record TriggerState(string Name, string FunctionSchema, string FunctionName, string FunctionComment);

/// <summary>A function that has one of the names a migration uses.</summary>
internal sealed record FunctionState(string Name, string Comment, bool OwnedByCurrentRole);

/// <summary>An index that has one of the names a migration uses, and what it is on.</summary>
internal sealed record IndexState(
    string Name, string TableSchema, string Table, bool Valid, string Method, string Options, string? FirstColumn, string? OperatorClass,
    long SizeBytes, bool Partitioned)
{
    public int? Option(string name)
    {
        foreach (var option in Options.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = option.Split('=', 2);
            if (parts.Length == 2 && parts[0] == name && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
        }

        return null;
    }
}

/// <summary>A partition of a partitioned table.</summary>
internal sealed record PartitionState(string Schema, string Name, bool IsPartitioned);

/// <summary>
/// Everything a migration needs to know about a table before it changes anything, read in one pass over the catalog with
/// read-only queries. The preflight (<see cref="PgvectorPreflight"/>) decides from it; nothing here judges.
/// </summary>
internal sealed class PgvectorTableState
{
    /// <summary>Vectors a sample reads to tell the dimensions of a column that declares none.</summary>
    public const int DimensionSampleRows = 10_000;

    public required string VectorSchema { get; init; }

    public required Version PgvectorVersion { get; init; }

    /// <summary>The relation's kind (<c>r</c> table, <c>p</c> partitioned table, <c>v</c> view, ...), or null when nothing has the name.</summary>
    public string? Kind { get; init; }

    public bool Exists => Kind is not null;

    public bool IsPartitioned => Kind == "p";

    public string Owner { get; init; } = "";

    public bool CanAlter { get; init; }

    public IReadOnlyList<string> SimilarTables { get; init; } = [];

    public IReadOnlyDictionary<string, ColumnState> Columns { get; init; } = new Dictionary<string, ColumnState>();

    public IReadOnlyList<PartitionState> Partitions { get; init; } = [];

    public IReadOnlyList<TriggerState> Triggers { get; init; } = [];

    public IReadOnlyDictionary<string, FunctionState> Functions { get; init; } = new Dictionary<string, FunctionState>();

    /// <summary>Indexes by schema-qualified name.</summary>
    public IReadOnlyDictionary<(string Schema, string Name), IndexState> Indexes { get; init; } = new Dictionary<(string, string), IndexState>();

    public IReadOnlyList<string> DependentViews { get; init; } = [];

    /// <summary>For each index of the parent of a partitioned table, the partitions whose own index is attached to it.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<(string Schema, string Name)>> Attached { get; init; } = new Dictionary<string, IReadOnlySet<(string, string)>>();

    /// <summary>Whether the partition's index is attached to the parent's index <paramref name="parentIndex"/>: PostgreSQL made or adopted it.</summary>
    public bool IsAttached(string parentIndex, PartitionState partition) =>
        Attached.TryGetValue(parentIndex, out var attached) && attached.Contains((partition.Schema, partition.Name));

    /// <summary>Dimension to rows in a sample of the vector column; null when the column declares its dimension.</summary>
    public IReadOnlyDictionary<int, long>? DimensionSample { get; init; }

    public IndexState? Index(string schema, string name) => Indexes.GetValueOrDefault((schema, name));

    /// <summary>Reads the state of the table the options name, and of every object a migration with these names would touch.</summary>
    /// <exception cref="SchemaMismatchException">pgvector is not installed in the database.</exception>
    public static async Task<PgvectorTableState> ReadAsync(
        NpgsqlConnection connection, PgvectorStoreOptions options, EmbeddingLayout layout, CancellationToken cancellationToken)
    {
        var (version, vectorSchema) = await ReadExtensionAsync(connection, cancellationToken).ConfigureAwait(false);
        var qualified = SqlIdentifier.Qualified(options.Schema, options.Table);
        var relation = await ReadRowsAsync(connection, PgvectorCatalog.Relation, [options.Schema, options.Table],
            r => (Kind: r.GetString(0), Owner: r.GetString(1), CanAlter: r.GetBoolean(2)), cancellationToken).ConfigureAwait(false);
        if (relation.Count == 0)
        {
            var similar = await ReadRowsAsync(connection, PgvectorCatalog.SimilarTables, [options.Schema, options.Table],
                r => SqlIdentifier.Qualified(r.GetString(0), r.GetString(1)), cancellationToken).ConfigureAwait(false);
            return new PgvectorTableState { VectorSchema = vectorSchema, PgvectorVersion = version, SimilarTables = similar };
        }

        var columns = (await ReadRowsAsync(connection, PgvectorCatalog.Columns, [qualified],
                r => (Name: r.GetString(0), Column: new ColumnState(r.GetString(1), r.GetString(2), r.GetInt32(3))), cancellationToken).ConfigureAwait(false))
            .ToDictionary(c => c.Name, c => c.Column, StringComparer.Ordinal);
        var partitions = await ReadRowsAsync(connection, PgvectorCatalog.Partitions, [qualified],
            r => new PartitionState(r.GetString(0), r.GetString(1), r.GetString(2) == "p"), cancellationToken).ConfigureAwait(false);
        var triggers = await ReadRowsAsync(connection, PgvectorCatalog.Triggers, [qualified],
            r => new TriggerState(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3)), cancellationToken).ConfigureAwait(false);
        var functions = (await ReadRowsAsync(connection, PgvectorCatalog.Functions,
                [options.Schema, new[] { options.TriggerName, options.PrefixFunctionName }],
                r => new FunctionState(r.GetString(0), r.GetString(1), r.GetBoolean(2)), cancellationToken).ConfigureAwait(false))
            .GroupBy(f => f.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

        var indexNames = new List<(string Schema, string Name)>
        {
            (options.Schema, options.ResolvedIndexName(layout.PrefixDimensions)),
            (options.Schema, options.FullIndexName),
            (options.Schema, options.PendingIndexName(options.Table)),
        };
        foreach (var partition in partitions)
        {
            indexNames.Add((partition.Schema, options.PartitionIndexName(partition.Name, layout.PrefixDimensions)));
            indexNames.Add((partition.Schema, options.PartitionFullIndexName(partition.Name)));
            indexNames.Add((partition.Schema, options.PendingIndexName(partition.Name)));
        }

        var indexes = new Dictionary<(string, string), IndexState>();
        foreach (var group in indexNames.GroupBy(n => n.Schema, StringComparer.Ordinal))
        {
            var found = await ReadRowsAsync(connection, PgvectorCatalog.Indexes, [group.Key, group.Select(n => n.Name).ToArray()],
                r => new IndexState(r.GetString(0), r.GetString(1), r.GetString(2), r.GetBoolean(3), r.GetString(4), r.GetString(5),
                    r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7), r.GetInt64(8), r.GetString(9) == "I"),
                cancellationToken).ConfigureAwait(false);
            foreach (var index in found)
            {
                indexes[(group.Key, index.Name)] = index;
            }
        }

        var attached = new Dictionary<string, IReadOnlySet<(string, string)>>(StringComparer.Ordinal);
        foreach (var parent in new[] { options.ResolvedIndexName(layout.PrefixDimensions), options.FullIndexName, options.PendingIndexName(options.Table) }.Where(n => indexes.ContainsKey((options.Schema, n))))
        {
            attached[parent] = (await ReadRowsAsync(connection, PgvectorCatalog.AttachedPartitions, [SqlIdentifier.Qualified(options.Schema, parent)],
                r => (r.GetString(0), r.GetString(1)), cancellationToken).ConfigureAwait(false)).ToHashSet();
        }

        var views = options.PrefixStorage == PrefixStorage.Column
            ? await ReadRowsAsync(connection, PgvectorCatalog.DependentViews, [qualified, options.ResolvedPrefixColumn], r => r.GetString(0), cancellationToken).ConfigureAwait(false)
            : [];

        IReadOnlyDictionary<int, long>? sample = null;
        if (columns.TryGetValue(options.VectorColumn, out var vector) && vector.Modifier < 0 && vector.Type is "vector" or "halfvec")
        {
            // A scoped migration is for one collection: the sizes of the others do not matter to it.
            var scope = options.ScopeColumn is { } scopeColumn && columns.ContainsKey(scopeColumn) ? scopeColumn : null;
            sample = (await ReadRowsAsync(connection, PgvectorCatalog.DimensionSample(qualified, options.VectorColumn, vectorSchema, DimensionSampleRows, scope),
                scope is null ? [] : [options.ScopeValue!],
                r => (Dims: r.GetInt32(0), Rows: r.GetInt64(1)), cancellationToken).ConfigureAwait(false)).ToDictionary(d => d.Dims, d => d.Rows);
        }

        return new PgvectorTableState
        {
            VectorSchema = vectorSchema, PgvectorVersion = version, Kind = relation[0].Kind, Owner = relation[0].Owner, CanAlter = relation[0].CanAlter,
            Columns = columns, Partitions = partitions, Triggers = triggers, Functions = functions, Indexes = indexes, DependentViews = views, Attached = attached,
            DimensionSample = sample,
        };
    }

    /// <summary>pgvector's version and schema.</summary>
    /// <exception cref="SchemaMismatchException">pgvector is not installed in the database.</exception>
    public static async Task<(Version Version, string Schema)> ReadExtensionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var rows = await ReadRowsAsync(connection, PgvectorCatalog.Extension, [], r => (Version: r.GetString(0), Schema: r.GetString(1)), cancellationToken).ConfigureAwait(false);
        if (rows.Count == 0)
        {
            throw new SchemaMismatchException("The pgvector extension is not installed in this database. Run CREATE EXTENSION vector (as a role allowed to), then retry.");
        }

        return (Version.TryParse(rows[0].Version, out var version) ? version : new Version(0, 0), rows[0].Schema);
    }

    private static async Task<List<T>> ReadRowsAsync<T>(
        NpgsqlConnection connection, string sql, object[] parameters, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
