using System.Globalization;
using Mrl.Adapters;
using Mrl.Adapters.Pgvector;

namespace Mrl.Bench;

/// <summary>
/// The SQL the PostgreSQL benchmark runs itself, beside the store's: the full-dimension baseline index with its own HNSW
/// parameters, and pgvector's binary quantization with a rerank (its index and its search, the route pgvector's README gives
/// for high dimensions). Identifiers are quoted here and nowhere else; values are parameters.
/// </summary>
internal sealed class PostgresBenchSql
{
    private readonly string _table;
    private readonly string _key;
    private readonly string _vector;
    private readonly string _pgvector;
    private readonly string _bits;
    private readonly string _fullType;
    private readonly string _fullIndexExpression;
    private readonly string _fullOperatorClass;
    private readonly string _distance;

    /// <param name="options">The table and its columns.</param>
    /// <param name="layout">The full dimensions and the metric.</param>
    /// <param name="pgvectorSchema">The schema pgvector was installed in.</param>
    public PostgresBenchSql(PgvectorStoreOptions options, EmbeddingLayout layout, string pgvectorSchema)
    {
        var d = layout.FullDimensions.ToString(CultureInfo.InvariantCulture);
        _table = SqlIdentifier.Qualified(options.Schema, options.Table);
        _key = SqlIdentifier.Quote(options.KeyColumn);
        _vector = SqlIdentifier.Quote(options.VectorColumn);
        _pgvector = SqlIdentifier.Quote(pgvectorSchema, "schema name");
        _fullType = $"{_pgvector}.{PgvectorTable.TypeName(options.FullVectorType)}({d})";

        // As the store does: a vector column too wide for a vector index is indexed, and searched, as halfvec.
        var indexType = options.FullVectorType == VectorType.Vector && layout.FullDimensions > PgvectorTable.MaxVectorIndexDimensions ? VectorType.HalfVec : options.FullVectorType;
        _fullIndexExpression = indexType == options.FullVectorType ? _vector : $"(CAST({_vector} AS {_pgvector}.halfvec({d})))";
        _fullOperatorClass = $"{_pgvector}.{PgvectorTable.OperatorClass(indexType, layout.Metric)}";
        _bits = $"CAST({_pgvector}.binary_quantize({_vector}) AS bit({d}))";
        _distance = layout.Metric switch
        {
            DistanceMetric.Cosine => $"OPERATOR({_pgvector}.<=>)",
            DistanceMetric.DotProduct => $"OPERATOR({_pgvector}.<#>)",
            DistanceMetric.Manhattan => $"OPERATOR({_pgvector}.<+>)",
            _ => $"OPERATOR({_pgvector}.<->)",
        };
        FullIndexName = options.FullIndexName;
        BqIndexName = SqlIdentifier.Derive(options.Table, options.VectorColumn + "_bq_hnsw");
        Schema = options.Schema;
        VectorParameterType = pgvectorSchema + ".vector";
    }

    /// <summary>The schema of the table and its indexes.</summary>
    public string Schema { get; }

    /// <summary>The full-dimension index's name: the one the store's migrator would give it.</summary>
    public string FullIndexName { get; }

    /// <summary>The binary-quantization index's name.</summary>
    public string BqIndexName { get; }

    /// <summary>The schema-qualified <c>vector</c> type, as Npgsql takes it for a parameter.</summary>
    public string VectorParameterType { get; }

    /// <summary>HNSW over the full vectors.</summary>
    public string FullIndex(int m, int efConstruction) => Index(FullIndexName, $"{_fullIndexExpression} {_fullOperatorClass}", m, efConstruction);

    /// <summary>HNSW over <c>binary_quantize(embedding)::bit(D)</c> by Hamming distance.</summary>
    public string BqIndex(int m, int efConstruction) => Index(BqIndexName, $"({_bits}) {_pgvector}.bit_hamming_ops", m, efConstruction);

    /// <summary>
    /// <c>$1</c> the query (<c>vector</c>), <c>$2</c> the candidates, <c>$3</c> k: the candidates nearest by Hamming distance
    /// between the sign bits, then the k nearest of them by the exact distance on the full vectors. Returns key and distance.
    /// </summary>
    public string BqSearch =>
        $"SELECT c.{_key}, c.{_vector} {_distance} CAST($1 AS {_fullType}) AS distance FROM " +
        $"(SELECT {_key}, {_vector} FROM {_table} ORDER BY {_bits} OPERATOR({_pgvector}.<~>) {_pgvector}.binary_quantize(CAST($1 AS {_fullType})) LIMIT $2) c " +
        "ORDER BY distance LIMIT $3";

    private string Index(string name, string expression, int m, int efConstruction) => string.Create(CultureInfo.InvariantCulture,
        $"CREATE INDEX CONCURRENTLY {SqlIdentifier.Quote(name, "index name")} ON {_table} USING hnsw ({expression}) WITH (m = {m}, ef_construction = {efConstruction})");
}
