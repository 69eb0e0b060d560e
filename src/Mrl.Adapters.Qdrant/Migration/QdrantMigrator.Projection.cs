using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Qdrant.Client;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Migration;

// A projected key: fitting it on a sample of the collection, and reading back the projection the collection's keys are computed with.
public sealed partial class QdrantMigrator
{
    // Seeds the hash that picks the sample, so that a rerun on the same points picks the same ones.
    private const ulong SampleSeed = 0x9E37_79B9_7F4A_7C15;

    // Ids per scroll page when listing the points to sample from (ids only: about 20 bytes each).
    private const uint IdPageSize = 10_000;

    // The most bytes of full vectors one retrieve call of the sample brings back, well under gRPC's default 4 MB answer limit.
    private const int SampleCallBytes = 2 * 1024 * 1024;

    /// <summary>
    /// Fits a projection (<see cref="ProjectionFitter"/>) on a sample of the collection's full vectors: the
    /// <paramref name="sampleSize"/> points whose ids hash lowest under a fixed seed (all of them in a smaller collection),
    /// so that a rerun on the same points fits on the same sample. It lists the ids by scrolling without payloads or
    /// vectors, then retrieves the sample's full vectors; points without a usable full vector (missing, zero or not
    /// finite) are left out. The projection's version is one above the highest the collection's side collection holds or
    /// its metadata names, so that a refit never reuses the version of keys already computed. Nothing is written.
    /// </summary>
    /// <param name="client">The Qdrant client.</param>
    /// <param name="options">The store's options: <see cref="QdrantStoreOptions.Collection"/>, the vector names, timeouts; the layout is not needed.</param>
    /// <param name="prefixDimensions">The key dimensions (p).</param>
    /// <param name="metric">The metric the key serves; it decides centred or uncentred (<see cref="ProjectionFitter.CentresFor"/>).</param>
    /// <param name="sampleSize">The most points fitted on.</param>
    /// <param name="sourceVectorName">The vector that holds the full embeddings, when it is neither the collection's unnamed vector nor <see cref="QdrantStoreOptions.FullVectorName"/>.</param>
    /// <param name="cancellationToken">Cancels the reads and the fit.</param>
    /// <exception cref="QdrantMigrationException">The collection or its full vector does not exist, or the sample has fewer usable vectors than <paramref name="prefixDimensions"/>.</exception>
    public static async Task<PrefixProjection> FitProjectionAsync(QdrantClient client, QdrantStoreOptions options, int prefixDimensions, DistanceMetric metric,
        int sampleSize = ProjectionFitter.DefaultSampleSize, string? sourceVectorName = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(requireLayout: false);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleSize, 1);
        var calls = StaticCalls(options);
        var source = await QdrantCollections.ReadAsync(client, calls, options.Collection, null, cancellationToken).ConfigureAwait(false)
                     ?? throw new QdrantMigrationException($"Qdrant has no collection or alias '{options.Collection}' to fit a projection on.");
        var (vectorName, vector) = QdrantMigrationPlan.FindSourceVector(source, options.FullVectorName, sourceVectorName);
        var dimensions = vector.Size;
        ArgumentOutOfRangeException.ThrowIfLessThan(prefixDimensions, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixDimensions, dimensions);

        var ids = await SampleIdsAsync(client, calls, options.Collection, sampleSize, cancellationToken).ConfigureAwait(false);
        var selector = vectorName is null
            ? new Proto.WithVectorsSelector { Enable = true }
            : new Proto.WithVectorsSelector { Include = new Proto.VectorsSelector { Names = { vectorName } } };
        var perCall = Math.Clamp(SampleCallBytes / (dimensions * sizeof(float) + 64), 1, QdrantAdaptiveStore<long>.MaxIdsPerCall);
        var sample = new List<float>(Math.Min(ids.Count, 100_000) * dimensions);
        var count = 0;
        foreach (var chunk in ids.Chunk(perCall))
        {
            var request = chunk.Select(QdrantProtos.PointId).ToArray();
            var points = await calls.RunAsync("Retrieve", ct => client.RetrieveAsync(options.Collection, request, new Proto.WithPayloadSelector { Enable = false },
                selector, options.ReadConsistency, cancellationToken: ct), cancellationToken).ConfigureAwait(false);

            // In the sample's order, whatever order the answer has: the fit's sums depend on it.
            var byId = points.ToDictionary(p => QdrantProtos.PointId(p.Id), p => p.Vectors);
            foreach (var id in chunk)
            {
                if (byId.TryGetValue(id, out var vectors) && QdrantProtos.ReadVector(vectors, vectorName, dimensions) is { } values &&
                    VectorMath.FindProblem(values, dimensions, dimensions, rejectZero: true) is null)
                {
                    sample.AddRange(values);
                    count++;
                }
            }
        }

        if (count < prefixDimensions)
        {
            throw new QdrantMigrationException(string.Create(CultureInfo.InvariantCulture,
                $"A projection of {prefixDimensions} directions needs a sample of at least as many usable vectors of {dimensions} dimensions; '{options.Collection}' gave {count}."));
        }

        var stored = await QdrantProjections.LatestVersionAsync(client, calls, QdrantProjectionCodec.CollectionFor(options.Collection), cancellationToken)
            .ConfigureAwait(false);
        var version = Math.Max(stored, source.Projections.Values.Select(p => p.Version).DefaultIfEmpty(0).Max()) + 1;
        var rows = sample.ToArray();
        return await Task.Run(() => ProjectionFitter.Fit(rows, dimensions, prefixDimensions, metric, version, cancellationToken: cancellationToken), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// The projection the keys of the collection's prefix vector (<see cref="QdrantStoreOptions.PrefixVectorName"/>) are
    /// computed with, as the collection's metadata names it, with its directions read from the side collection and checked
    /// against the marker; null when the collection records none (truncated keys, a server before 1.16) or does not exist.
    /// A version stored in the side collection but not named by the marker is not it.
    /// </summary>
    /// <param name="client">The Qdrant client.</param>
    /// <param name="options">The store's options: <see cref="QdrantStoreOptions.Collection"/> and the prefix vector's name; the layout is not needed.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <exception cref="SchemaMismatchException">The marker cannot be read, or the directions it names are missing, incomplete or altered.</exception>
    public static async Task<PrefixProjection?> ReadProjectionAsync(QdrantClient client, QdrantStoreOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(requireLayout: false);
        var calls = StaticCalls(options);
        var info = await QdrantCollections.ReadAsync(client, calls, options.Collection, null, cancellationToken).ConfigureAwait(false);
        return info is not null && info.Projections.TryGetValue(options.PrefixVectorName, out var marker)
            ? await QdrantProjections.ReadAsync(client, calls, marker, info.Name, options.ReadConsistency, cancellationToken).ConfigureAwait(false)
            : null;
    }

    /// <summary>
    /// The layout the collection was migrated with: the full and prefix dimensions from its two named vectors, the metric
    /// from their distance, and the projection when its metadata records one (see <see cref="ReadProjectionAsync"/>). A
    /// store opened with it needs no matrix from the application.
    /// </summary>
    /// <param name="client">The Qdrant client.</param>
    /// <param name="options">The store's options: <see cref="QdrantStoreOptions.Collection"/> and the vector names; the layout is not needed.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <exception cref="QdrantMigrationException">The collection, its full vector or its prefix vector does not exist, or their distance is not one the store knows.</exception>
    /// <exception cref="SchemaMismatchException">The recorded projection cannot be read whole, or its shape is not that of the vectors.</exception>
    public static async Task<EmbeddingLayout> ReadLayoutAsync(QdrantClient client, QdrantStoreOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(requireLayout: false);
        var calls = StaticCalls(options);
        var info = await QdrantCollections.ReadAsync(client, calls, options.Collection, null, cancellationToken).ConfigureAwait(false)
                   ?? throw new QdrantMigrationException($"Qdrant has no collection or alias '{options.Collection}' to read a layout from.");
        var full = Vector(options.FullVectorName, "full");
        var prefix = Vector(options.PrefixVectorName, "prefix");
        var metric = QdrantDistance.Metric(prefix.Distance) is { } known && string.Equals(full.Distance, prefix.Distance, StringComparison.Ordinal)
            ? known
            : throw new QdrantMigrationException(
                $"The vectors '{options.FullVectorName}' ({full.Distance}) and '{options.PrefixVectorName}' ({prefix.Distance}) of '{info.Name}' do not share a distance the store knows.");
        if (!info.Projections.TryGetValue(options.PrefixVectorName, out var marker))
        {
            return new EmbeddingLayout(full.Size, prefix.Size, metric);
        }

        var projection = await QdrantProjections.ReadAsync(client, calls, marker, info.Name, options.ReadConsistency, cancellationToken).ConfigureAwait(false);
        if (projection.Rows != prefix.Size || projection.Columns != full.Size)
        {
            throw new SchemaMismatchException(string.Create(CultureInfo.InvariantCulture,
                $"Qdrant collection '{info.Name}' records projection version {projection.Version} ({projection.Rows} × {projection.Columns}) for its prefix vector " +
                $"'{options.PrefixVectorName}' of {prefix.Size} dimensions beside a full vector of {full.Size}: the marker and the vectors disagree."));
        }

        return new EmbeddingLayout(projection, metric);

        QdrantVectorInfo Vector(string name, string role) =>
            info.NamedVectors.TryGetValue(name, out var vector)
                ? vector
                : throw new QdrantMigrationException(
                    $"Qdrant collection '{info.Name}' has no {role} vector '{name}' to read the layout from. Migrate it first (QdrantMigrator), or pass the layout.");
    }

    /// <summary>
    /// The ids of the sample: the <paramref name="size"/> points whose ids hash lowest, in the order of their hashes. A hash of
    /// the id, not a random draw, so that the same points give the same sample in any scroll order, and a point written
    /// since changes it by one at most.
    /// </summary>
    private static async Task<List<QdrantPointId>> SampleIdsAsync(QdrantClient client, QdrantCalls calls, string collection, int size, CancellationToken cancellationToken)
    {
        // The highest hash kept is at the head, to be replaced by any lower one.
        var kept = new PriorityQueue<QdrantPointId, ulong>(size, Comparer<ulong>.Create(static (a, b) => b.CompareTo(a)));
        Proto.PointId? offset = null;
        do
        {
            var page = await calls.RunAsync("Scroll", ct => client.ScrollAsync(collection, limit: IdPageSize, offset: offset,
                payloadSelector: new Proto.WithPayloadSelector { Enable = false }, vectorsSelector: new Proto.WithVectorsSelector { Enable = false },
                cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            foreach (var point in page.Result)
            {
                var id = QdrantProtos.PointId(point.Id);
                var hash = SampleHash(id);
                if (kept.Count < size)
                {
                    kept.Enqueue(id, hash);
                }
                else if (kept.TryPeek(out _, out var highest) && hash < highest)
                {
                    kept.DequeueEnqueue(id, hash);
                }
            }

            offset = page.NextPageOffset;
        }
        while (offset is not null);

        var ids = new List<(ulong Hash, QdrantPointId Id)>(kept.Count);
        while (kept.TryDequeue(out var id, out var hash))
        {
            ids.Add((hash, id));
        }

        ids.Sort(static (a, b) => a.Hash.CompareTo(b.Hash));
        return ids.ConvertAll(static e => e.Id);
    }

    /// <summary>The seeded hash a point id is sampled by (SplitMix64's finalizer over the id's bits).</summary>
    internal static ulong SampleHash(QdrantPointId id)
    {
        if (!id.IsUuid)
        {
            return Mix(id.Number ^ SampleSeed);
        }

        Span<byte> bytes = stackalloc byte[16];
        id.Uuid.TryWriteBytes(bytes);
        return Mix(BitConverter.ToUInt64(bytes[8..]) ^ Mix(BitConverter.ToUInt64(bytes[..8]) ^ SampleSeed));

        static ulong Mix(ulong z)
        {
            z += 0x9E37_79B9_7F4A_7C15;
            z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9;
            z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB;
            return z ^ (z >> 31);
        }
    }

    private static QdrantCalls StaticCalls(QdrantStoreOptions options) =>
        new(options.Collection, options.RequestTimeout, options.RetryAttempts, options.ApiKey, NullLogger.Instance);
}
