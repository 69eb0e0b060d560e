using System.Globalization;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// How a <see cref="QdrantAdaptiveStore{TKey}"/> lays out, writes and searches its collection, and where Qdrant is when
/// the store has to create its own <c>QdrantClient</c>. Checked when the store is created (and at start-up when
/// registered with <c>AddQdrantAdaptiveStore</c>).
/// </summary>
public sealed class QdrantStoreOptions
{
    /// <summary>The default of <see cref="MaxRequestBytes"/>: 8 MiB, well under the 32 MiB a Qdrant server accepts by default.</summary>
    public const int DefaultMaxRequestBytes = 8 * 1024 * 1024;

    /// <summary>The largest message this store allows: Qdrant's own limit (<c>service.max_request_size_mb</c>) is 32 MiB by default, so stay under it.</summary>
    public const int MaxRequestBytesLimit = 32 * 1024 * 1024 - 64 * 1024;

    /// <summary>
    /// Qdrant's gRPC endpoint, e.g. <c>http://localhost:6334</c> (http or https), used only when no <c>QdrantClient</c> is
    /// given: <c>AddQdrantAdaptiveStore</c> creates one from it when the container has none. A store constructed with a
    /// client ignores it.
    /// </summary>
    public Uri? Endpoint { get; set; }

    /// <summary>
    /// The API key for a client created from <see cref="Endpoint"/> (sent by Qdrant.Client in the <c>api-key</c> header);
    /// never logged and never put in a message. A store constructed with a client uses it only to keep it out of messages.
    /// </summary>
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

    /// <summary>How long one call may take, from sending to the end of the answer; each retry gets this long again. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The largest message a write sends: upserts are split into batches below it. Default 8 MiB; at most
    /// <see cref="MaxRequestBytesLimit"/>, at least 1 KiB.
    /// </summary>
    public int MaxRequestBytes { get; set; } = DefaultMaxRequestBytes;

    /// <summary>Payload indexes <see cref="IAdaptiveStore{TKey}.EnsureSchemaAsync"/> creates, for the fields filters use.</summary>
    public IList<QdrantPayloadIndex> PayloadIndexes { get; private set; } = new List<QdrantPayloadIndex>();

    /// <summary>HNSW <c>m</c> of the prefix vector; null for the server's default (16).</summary>
    public int? PrefixHnswM { get; set; }

    /// <summary>HNSW <c>ef_construct</c> of the prefix vector; null for the server's default (100).</summary>
    public int? PrefixHnswEfConstruct { get; set; }

    /// <summary><c>shard_number</c> at creation, for distributed Qdrant: how many shards the points are spread over; null for the server's default (1 per node).</summary>
    public int? ShardNumber { get; set; }

    /// <summary><c>replication_factor</c> at creation, for distributed Qdrant: copies of each shard; null for the server's default (1).</summary>
    public int? ReplicationFactor { get; set; }

    /// <summary><c>write_consistency_factor</c> at creation, for distributed Qdrant: replicas that must confirm a write; null for the server's default (1).</summary>
    public int? WriteConsistencyFactor { get; set; }

    /// <summary>
    /// The read <c>consistency</c> of searches, counts and retrieves in distributed Qdrant: a type (<c>All</c>,
    /// <c>Majority</c>, <c>Quorum</c>) or a number of replicas; null for the server's default (one replica answers).
    /// </summary>
    public Proto.ReadConsistency? ReadConsistency { get; set; }

    /// <summary>
    /// How often a call that failed with a transient gRPC status (<c>Unavailable</c>) is tried again, with exponential
    /// back-off from 200 ms and jitter. Default 3; 0 turns retries off (e.g. when the channel has its own retry policy).
    /// </summary>
    public int RetryAttempts { get; set; } = 3;

    /// <summary>
    /// The most matching points a filtered <c>GetAsync</c> reads when it must order them in process: with
    /// <see cref="RecordQueryOptions.OrderBy"/>, or with Guid or string keys, whose point ids do not sort like the keys.
    /// More matches fail with an <see cref="InvalidOperationException"/> instead of reading the collection whole. Default 10,000.
    /// </summary>
    public int MaxScanPoints { get; set; } = 10_000;

    /// <summary>Every problem with these options, as a sentence each; empty when they are valid.</summary>
    public IReadOnlyList<string> Problems() => Problems(requireLayout: true);

    /// <summary>Every problem with these options; without <paramref name="requireLayout"/>, a missing layout is none (for reading the layout from the collection).</summary>
    internal List<string> Problems(bool requireLayout)
    {
        var problems = new List<string>();
        if (Endpoint is not null && (!Endpoint.IsAbsoluteUri || (Endpoint.Scheme != Uri.UriSchemeHttp && Endpoint.Scheme != Uri.UriSchemeHttps)))
        {
            problems.Add("Endpoint must be an absolute http or https URL.");
        }

        if (Layout is null && requireLayout)
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

        if (RequestTimeout <= TimeSpan.Zero && RequestTimeout != Timeout.InfiniteTimeSpan)
        {
            problems.Add("RequestTimeout must be positive (or Timeout.InfiniteTimeSpan).");
        }

        if (MaxRequestBytes < 1024 || MaxRequestBytes > MaxRequestBytesLimit)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"MaxRequestBytes must be between 1024 and {MaxRequestBytesLimit} (Qdrant refuses bodies over 32 MiB), got {MaxRequestBytes}."));
        }

        foreach (var (name, value, minimum) in new (string, int?, int)[]
                 {
                     (nameof(PrefixHnswM), PrefixHnswM, 2),
                     (nameof(PrefixHnswEfConstruct), PrefixHnswEfConstruct, 4),
                     (nameof(ShardNumber), ShardNumber, 1),
                     (nameof(ReplicationFactor), ReplicationFactor, 1),
                     (nameof(WriteConsistencyFactor), WriteConsistencyFactor, 1),
                     (nameof(RetryAttempts), RetryAttempts, 0),
                     (nameof(MaxScanPoints), MaxScanPoints, 1),
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

    /// <summary>A copy, so that a store is not changed by later changes to the options it was given.</summary>
    internal QdrantStoreOptions Clone()
    {
        var copy = (QdrantStoreOptions)MemberwiseClone();
        copy.ReadConsistency = ReadConsistency?.Clone();
        var indexes = (List<QdrantPayloadIndex>)copy.PayloadIndexes;
        copy.PayloadIndexes = [.. indexes];
        return copy;
    }

    /// <summary>Throws when <see cref="Problems()"/> finds any.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public void Validate() => Validate(requireLayout: true);

    /// <summary>Throws when <see cref="Problems(bool)"/> finds any.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    internal void Validate(bool requireLayout)
    {
        var problems = Problems(requireLayout);
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid QdrantStoreOptions: " + string.Join(" ", problems));
        }
    }
}
