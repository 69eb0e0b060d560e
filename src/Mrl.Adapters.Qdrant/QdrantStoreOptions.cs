using System.Globalization;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// How a <see cref="QdrantAdaptiveStore{TKey}"/> reaches Qdrant and lays out its collection. Checked when the store is
/// created (and at start-up when registered with <c>AddQdrantAdaptiveStore</c>).
/// </summary>
public sealed class QdrantStoreOptions
{
    /// <summary>The default of <see cref="MaxRequestBytes"/>: 8 MiB, well under the 32 MiB Qdrant accepts.</summary>
    public const int DefaultMaxRequestBytes = 8 * 1024 * 1024;

    /// <summary>The default of <see cref="MaxResponseBytes"/>: 256 MiB.</summary>
    public const long DefaultMaxResponseBytes = 256L * 1024 * 1024;

    /// <summary>The largest request body this store allows: Qdrant's own limit is 32 MiB, so stay under it.</summary>
    public const int MaxRequestBytesLimit = 32 * 1024 * 1024 - 64 * 1024;

    /// <summary>The Qdrant REST endpoint, e.g. <c>http://localhost:6333</c>; http or https. A path (behind a proxy) is kept.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The API key, sent in the <c>api-key</c> header of every request; never logged and never put in a message.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The shape of the embeddings: full and prefix dimensions and the metric.</summary>
    public EmbeddingLayout? Layout { get; set; }

    /// <summary>
    /// The collection (or alias) the store reads and writes: a name Qdrant accepts for a collection, that is at most 255
    /// characters of valid Unicode, none of <c>&lt; &gt; : " / \ | ? *</c>, NUL or U+001F, and not <c>.</c> or <c>..</c>.
    /// </summary>
    public string Collection { get; set; } = "";

    /// <summary>The named vector that holds the prefix and carries the HNSW index. Default <c>prefix</c>.</summary>
    public string PrefixVectorName { get; set; } = "prefix";

    /// <summary>The named vector that holds the full embedding, without an HNSW graph and on disk. Default <c>full</c>.</summary>
    public string FullVectorName { get; set; } = "full";

    /// <summary>How long one request may take, from sending to the end of the response. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The largest request body a write sends: upserts are split into batches below it. Default 8 MiB; at most
    /// <see cref="MaxRequestBytesLimit"/>, at least 1 KiB.
    /// </summary>
    public int MaxRequestBytes { get; set; } = DefaultMaxRequestBytes;

    /// <summary>
    /// The largest response body read from Qdrant: a larger answer fails with a <see cref="QdrantException"/> instead of
    /// being parsed, so a misbehaving server or proxy cannot exhaust memory. Default 256 MiB (a search for 3,200 candidates
    /// with 3,072-dimension full vectors is about 100 MB of JSON); at least 1 MiB. Error answers are read only to their
    /// first 64 KiB.
    /// </summary>
    public long MaxResponseBytes { get; set; } = DefaultMaxResponseBytes;

    /// <summary>Payload indexes <see cref="IAdaptiveStore{TKey}.EnsureSchemaAsync"/> creates, for the fields filters use.</summary>
    public IList<QdrantPayloadIndex> PayloadIndexes { get; } = [];

    /// <summary>HNSW <c>m</c> of the prefix vector; null for the server's default (16).</summary>
    public int? PrefixHnswM { get; set; }

    /// <summary>HNSW <c>ef_construct</c> of the prefix vector; null for the server's default (100).</summary>
    public int? PrefixHnswEfConstruct { get; set; }

    /// <summary><c>shard_number</c> at creation, for distributed Qdrant; null for the server's default.</summary>
    public int? ShardNumber { get; set; }

    /// <summary><c>replication_factor</c> at creation, for distributed Qdrant; null for the server's default.</summary>
    public int? ReplicationFactor { get; set; }

    /// <summary><c>write_consistency_factor</c> at creation, for distributed Qdrant; null for the server's default.</summary>
    public int? WriteConsistencyFactor { get; set; }

    /// <summary>Every problem with these options, as a sentence each; empty when they are valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Endpoint is null)
        {
            problems.Add("Endpoint is not set (e.g. http://localhost:6333).");
        }
        else if (!Endpoint.IsAbsoluteUri || (Endpoint.Scheme != Uri.UriSchemeHttp && Endpoint.Scheme != Uri.UriSchemeHttps))
        {
            problems.Add("Endpoint must be an absolute http or https URL.");
        }

        if (Layout is null)
        {
            problems.Add("Layout is not set.");
        }

        if (string.IsNullOrWhiteSpace(Collection))
        {
            problems.Add("Collection is not set.");
        }
        else if (QdrantNames.CollectionNameProblem(Collection) is { } collectionProblem)
        {
            problems.Add($"Collection '{Collection}' cannot be a Qdrant collection name: {collectionProblem}.");
        }

        if (string.IsNullOrWhiteSpace(PrefixVectorName) || string.IsNullOrWhiteSpace(FullVectorName))
        {
            problems.Add("PrefixVectorName and FullVectorName must be non-empty.");
        }
        else if (string.Equals(PrefixVectorName, FullVectorName, StringComparison.Ordinal))
        {
            problems.Add($"PrefixVectorName and FullVectorName are both '{PrefixVectorName}'; they must differ.");
        }
        else if (UnicodeText.IndexOfLoneSurrogate(PrefixVectorName) >= 0 || UnicodeText.IndexOfLoneSurrogate(FullVectorName) >= 0)
        {
            problems.Add("PrefixVectorName and FullVectorName must be valid Unicode (a lone surrogate has no UTF-8 form for Qdrant to read).");
        }
        else if (PrefixVectorName is "." or ".." || FullVectorName is "." or "..")
        {
            // The migrator puts the prefix vector's name in a URL path, where an HTTP client resolves these away.
            problems.Add("PrefixVectorName and FullVectorName cannot be '.' or '..'.");
        }

        if (RequestTimeout <= TimeSpan.Zero && RequestTimeout != Timeout.InfiniteTimeSpan)
        {
            problems.Add("RequestTimeout must be positive (or Timeout.InfiniteTimeSpan).");
        }

        if (MaxRequestBytes < 1024 || MaxRequestBytes > MaxRequestBytesLimit)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"MaxRequestBytes must be between 1024 and {MaxRequestBytesLimit} (Qdrant refuses bodies over 32 MiB), got {MaxRequestBytes}."));
        }

        if (MaxResponseBytes < 1024 * 1024)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"MaxResponseBytes must be at least 1 MiB (1048576), got {MaxResponseBytes}."));
        }

        foreach (var (name, value, minimum) in new (string, int?, int)[]
                 {
                     (nameof(PrefixHnswM), PrefixHnswM, 2),
                     (nameof(PrefixHnswEfConstruct), PrefixHnswEfConstruct, 4),
                     (nameof(ShardNumber), ShardNumber, 1),
                     (nameof(ReplicationFactor), ReplicationFactor, 1),
                     (nameof(WriteConsistencyFactor), WriteConsistencyFactor, 1),
                 })
        {
            if (value < minimum)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name} must be at least {minimum} when set, got {value}."));
            }
        }

        foreach (var index in PayloadIndexes)
        {
            if (index is null || string.IsNullOrWhiteSpace(index.Field) || !Enum.IsDefined(index.Type))
            {
                problems.Add("Every payload index needs a field name and a defined type.");
                break;
            }

            if (!QdrantFilterTranslator.CanAddress(index.Field) || UnicodeText.IndexOfLoneSurrogate(index.Field) >= 0)
            {
                problems.Add($"The payload index field '{index.Field}' contains a double quote, a backslash or a lone surrogate; a Qdrant key path cannot address it.");
            }
        }

        return problems;
    }

    /// <summary>Throws when <see cref="Problems"/> finds any.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid QdrantStoreOptions: " + string.Join(" ", problems));
        }
    }
}
