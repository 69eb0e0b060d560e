using System.CommandLine;
using Mrl.Adapters;
using Mrl.Adapters.Pgvector;
using Npgsql;

namespace Mrl.Cli.Commands;

/// <summary>The options that name a table and its layout, shared by <c>migrate postgres</c>, <c>migrate status</c> and <c>fit-projection</c>.</summary>
internal sealed class TableOptions
{
    public Option<string> Connection { get; } = new("--connection", "-c") { Description = "Npgsql connection string.", Required = true };
    public Option<string> Table { get; } = new("--table", "-t") { Description = "The table: name or schema.name (case-sensitive).", Required = true };
    public Option<string> KeyColumn { get; } = new("--key-column") { Description = "Primary-key column.", DefaultValueFactory = _ => "id" };
    public Option<string> VectorColumn { get; } = new("--vector-column") { Description = "Full-vector column (vector or halfvec).", DefaultValueFactory = _ => "embedding" };
    public Option<int?> Dims { get; } = new("--dims") { Description = "Full dimensions; read from the column when omitted (checked against it when given)." };
    public Option<int> Prefix { get; } = new("--prefix", "-p") { Description = "Prefix dimensions to index.", Required = true };
    public Option<DistanceMetric> Metric { get; } = new("--metric") { Description = "Cosine, DotProduct, Euclidean or Manhattan.", DefaultValueFactory = _ => DistanceMetric.Cosine };
    public Option<PrefixStorage> Mode { get; } = new("--mode") { Description = "Column (prefix column, trigger, backfill, index) or Expression (expression index only).", DefaultValueFactory = _ => PrefixStorage.Column };
    public Option<string?> PrefixColumn { get; } = new("--prefix-column") { Description = "Prefix column name (default: {vector column}_prefix)." };
    public Option<VectorType> PrefixType { get; } = new("--prefix-type") { Description = "HalfVec or Vector.", DefaultValueFactory = _ => VectorType.HalfVec };
    public Option<int> M { get; } = new("--m") { Description = "HNSW m.", DefaultValueFactory = _ => 16 };
    public Option<int> EfConstruction { get; } = new("--ef-construction") { Description = "HNSW ef_construction.", DefaultValueFactory = _ => 64 };
    public Option<string?> ScopeColumn { get; } = new("--scope-column") { Description = "Column that tells collections in one table apart (LangChain: collection_id); with --scope-value the prefix index is partial, of that collection only." };
    public Option<string?> ScopeValue { get; } = new("--scope-value") { Description = "The collection's value of --scope-column (a uuid, a number or a name)." };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Connection, Table, KeyColumn, VectorColumn, Dims, Prefix, Metric, Mode, PrefixColumn, PrefixType, M, EfConstruction, ScopeColumn, ScopeValue })
        {
            command.Options.Add(option);
        }
    }

    public PgvectorStoreOptions StoreOptions(ParseResult parse)
    {
        var (schema, name) = SqlIdentifier.ParseQualified(parse.GetValue(Table)!);
        return new PgvectorStoreOptions
        {
            Schema = schema, Table = name, KeyColumn = parse.GetValue(KeyColumn)!, VectorColumn = parse.GetValue(VectorColumn)!,
            PrefixStorage = parse.GetValue(Mode), PrefixColumn = parse.GetValue(PrefixColumn), PrefixVectorType = parse.GetValue(PrefixType),
            HnswM = parse.GetValue(M), HnswEfConstruction = parse.GetValue(EfConstruction), CreateTableIfMissing = false,
            ScopeColumn = parse.GetValue(ScopeColumn), ScopeValue = parse.GetValue(ScopeValue),
        };
    }

    /// <summary>The layout: <c>--dims</c> when given (the preflight checks it against the column), else read from the table.</summary>
    public async Task<EmbeddingLayout> LayoutAsync(ParseResult parse, NpgsqlDataSource? dataSource, PgvectorStoreOptions options, CancellationToken cancellationToken)
    {
        var dimensions = parse.GetValue(Dims) ?? (dataSource is null
            ? throw new ArgumentException("--offline needs --dims: it does not connect to read the column.")
            : await PgvectorMigrator.ReadFullDimensionsAsync(dataSource, options, cancellationToken));
        return new EmbeddingLayout(dimensions, parse.GetValue(Prefix), parse.GetValue(Metric));
    }
}
