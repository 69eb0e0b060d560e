using Google.Protobuf.Collections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mrl.Adapters.Diagnostics;
using Qdrant.Client;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Migration;

/// <summary>
/// Gives an existing Qdrant collection the layout <see cref="QdrantAdaptiveStore{TKey}"/> needs: a prefix named vector
/// beside the full vector, through the official <see cref="QdrantClient"/>. In place on Qdrant 1.18+
/// (<c>qdrant.Points/CreateVectorName</c>, then a backfill by scrolling), or through a new collection, a copy by
/// scrolling, and an atomic alias switch. Plan first (<see cref="PlanAsync"/>, only reads; the plan's text is the dry
/// run), then run the plan (<see cref="ExecuteAsync"/>).
/// Both the backfill and the copy can be resumed from the last <see cref="QdrantMigrationProgress.Checkpoint"/>.
/// </summary>
public sealed partial class QdrantMigrator
{
    private const int SampleLimit = 100;

    private readonly QdrantClient _client;
    private readonly QdrantCalls _calls;
    private readonly QdrantStoreOptions _store;
    private readonly ILogger _logger;

    /// <summary>Creates a migrator that works through <paramref name="client"/>, which it does not dispose.</summary>
    /// <param name="client">The Qdrant client.</param>
    /// <param name="store">The options of the store that will use the collection afterwards: collection, layout, vector names, payload indexes, cluster settings.</param>
    /// <param name="logger">Where progress and calls are logged (never the API key).</param>
    /// <exception cref="ArgumentException">The store options are invalid.</exception>
    public QdrantMigrator(QdrantClient client, QdrantStoreOptions store, ILogger<QdrantMigrator>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(store);
        store.Validate();
        _client = client;
        _store = store.Clone();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _calls = new QdrantCalls(store.Collection, store.RequestTimeout, store.RetryAttempts, store.ApiKey, _logger);
    }

    /// <summary>Reads the server's version, the collection, the aliases and any earlier target, and works out the plan. Sends no write.</summary>
    /// <exception cref="QdrantMigrationException">The migration cannot be done as asked; the message says why.</exception>
    public async Task<QdrantMigrationPlan> PlanAsync(QdrantMigrationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var state = await ReadStateAsync(options, cancellationToken).ConfigureAwait(false);
        return QdrantMigrationPlan.Create(state, _store, options);
    }

    /// <summary>Runs a plan made by <see cref="PlanAsync"/> (or <see cref="QdrantMigrationPlan.Create"/>), step by step.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="progress">Told after every page of the backfill or copy, with the checkpoint to resume from.</param>
    /// <param name="cancellationToken">Stops between requests; resume from the last checkpoint reported.</param>
    public async Task<QdrantMigrationResult> ExecuteAsync(
        QdrantMigrationPlan plan, IProgress<QdrantMigrationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var run = new Run(plan, progress);
        foreach (var step in plan.Steps)
        {
            using var activity = StoreTelemetry.StartMigrationStep(QdrantAdaptiveStore<long>.SystemName, plan.StoreCollection, StepName(step));
            try
            {
                switch (step)
                {
                    case SendStep send:
                        await send.Send(_client, _calls, cancellationToken).ConfigureAwait(false);
                        LogStep(_logger, send.Call);
                        break;
                    case StoreProjectionStep stored:
                        await QdrantProjections.StoreAsync(_client, _calls, stored.Projection, stored.Collection, plan.Store, cancellationToken).ConfigureAwait(false);
                        LogStep(_logger, "store projection");
                        break;
                    case BackfillStep backfill:
                        await ScrollAsync(run, "backfill", backfill.Collection, backfill.FullVectorName, withPayload: false,
                            page => UpdatePrefixesAsync(backfill.Collection, plan.Store, page, cancellationToken),
                            skipWithoutPrefix: true, cancellationToken).ConfigureAwait(false);
                        break;
                    case CopyStep copy:
                        await ScrollAsync(run, "copy", copy.Source, copy.SourceVectorName, withPayload: true,
                            page => UpsertAsync(copy.Target, plan.Store, page, cancellationToken),
                            skipWithoutPrefix: false, cancellationToken).ConfigureAwait(false);
                        break;
                }
            }
            catch (Exception e)
            {
                StoreTelemetry.SetError(activity, e);
                throw;
            }
        }

        return new QdrantMigrationResult(plan.Path, plan.StoreCollection, run.Done, run.WithoutPrefix, run.Samples);
    }

    // A span name: the gRPC method ("qdrant.Points/CreateVectorName"), "store projection", "backfill" or "copy".
    private static string StepName(QdrantMigrationStep step) => step switch
    {
        SendStep send => send.Call,
        StoreProjectionStep => "store projection",
        BackfillStep => "backfill",
        _ => "copy",
    };

    /// <summary>Plans and runs in one call.</summary>
    public async Task<QdrantMigrationResult> MigrateAsync(
        QdrantMigrationOptions options, IProgress<QdrantMigrationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var plan = await PlanAsync(options, cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(plan, progress, cancellationToken).ConfigureAwait(false);
    }

    private async Task<QdrantServerState> ReadStateAsync(QdrantMigrationOptions options, CancellationToken cancellationToken)
    {
        var version = await QdrantCollections.ServerVersionAsync(_client, _calls, cancellationToken).ConfigureAwait(false);
        var aliasList = await _calls.RunAsync("ListAliases", ct => _client.ListAliasesAsync(ct), cancellationToken).ConfigureAwait(false);
        var aliases = aliasList.ToDictionary(a => a.AliasName, a => a.CollectionName, StringComparer.Ordinal);
        var name = _store.Collection;
        var collectionName = aliases.TryGetValue(name, out var aliased) ? aliased : name;
        var source = await QdrantCollections.ReadAsync(_client, _calls, name, collectionName, cancellationToken).ConfigureAwait(false)
                     ?? throw new QdrantMigrationException($"Qdrant has no collection or alias '{name}' to migrate.");
        var targetName = options.TargetCollection ?? QdrantMigrationPlan.DefaultTarget(collectionName);
        var target = options.Path == QdrantMigrationPath.InPlace
            ? null
            : await QdrantCollections.ReadAsync(_client, _calls, targetName, null, cancellationToken).ConfigureAwait(false);
        return new QdrantServerState(version, source, target, aliases);
    }

    private async Task ScrollAsync(
        Run run, string phase, string collection, string? vectorName, bool withPayload, Func<List<ScrolledPoint>, Task> write,
        bool skipWithoutPrefix, CancellationToken cancellationToken)
    {
        var layout = run.Plan.Store.Layout!;
        var offset = run.Plan.ResumeFrom;
        do
        {
            var scroll = QdrantMigrationPlan.Scroll(collection, offset, run.Plan.BatchSize, vectorName, withPayload);
            var response = await _calls.RunAsync("Scroll", ct => _client.ScrollAsync(collection, limit: scroll.Limit, offset: scroll.Offset,
                payloadSelector: scroll.WithPayload, vectorsSelector: scroll.WithVectors, cancellationToken: ct), cancellationToken).ConfigureAwait(false);

            var points = new List<ScrolledPoint>(response.Result.Count);
            foreach (var point in response.Result)
            {
                var id = QdrantProtos.PointId(point.Id);
                var full = QdrantProtos.ReadVector(point.Vectors, vectorName, layout.FullDimensions);
                var prefix = Prefix(layout, full);
                if (prefix is null)
                {
                    run.NoPrefix(id);
                    if (skipWithoutPrefix)
                    {
                        continue;
                    }
                }

                points.Add(new ScrolledPoint(id, prefix, full, point.Payload));
            }

            if (points.Count > 0)
            {
                await write(points).ConfigureAwait(false);
            }

            run.Done += response.Result.Count;
            offset = response.NextPageOffset is { } next ? QdrantProtos.PointId(next) : null;
            run.Progress?.Report(new QdrantMigrationProgress(phase, run.Done, run.Plan.PointsTotal, run.WithoutPrefix, offset));
            LogPage(_logger, phase, run.Done, offset);
        }
        while (offset is not null);
    }

    // The backfill sets only the prefix vector, leaving each point's other vectors and payload as they are.
    private async Task UpdatePrefixesAsync(string collection, QdrantStoreOptions store, List<ScrolledPoint> page, CancellationToken cancellationToken)
    {
        var updates = page.Select(point =>
        {
            var named = new Proto.NamedVectors();
            named.Vectors[store.PrefixVectorName] = QdrantProtos.Vector(point.Prefix);
            return new Proto.PointVectors { Id = QdrantProtos.PointId(point.Id), Vectors = new Proto.Vectors { Vectors_ = named } };
        }).ToArray();
        foreach (var batch in QdrantAdaptiveStore<long>.Batches(updates, store.MaxRequestBytes,
                     new Proto.UpdatePointVectors { CollectionName = collection, Wait = true }, i => $"Point {page[i].Id}"))
        {
            await _calls.RunAsync("UpdateVectors", async ct =>
            {
                var result = await _client.UpdateVectorsAsync(collection, batch, wait: true, cancellationToken: ct).ConfigureAwait(false);
                QdrantCollections.EnsureApplied(result, "UpdateVectors", collection);
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    // The copy writes each point whole: its id and payload, the full vector and the prefix computed from it.
    private async Task UpsertAsync(string collection, QdrantStoreOptions store, List<ScrolledPoint> page, CancellationToken cancellationToken)
    {
        var points = page.Select(point =>
        {
            var written = QdrantAdaptiveStore<long>.Point(point.Id, point.Prefix, point.Full, store.PrefixVectorName, store.FullVectorName);
            written.Payload.Add(point.Payload);
            return written;
        }).ToArray();
        foreach (var batch in QdrantAdaptiveStore<long>.Batches(points, store.MaxRequestBytes,
                     new Proto.UpsertPoints { CollectionName = collection, Wait = true }, i => $"Point {page[i].Id}"))
        {
            await _calls.RunAsync("Upsert", async ct =>
            {
                var result = await _client.UpsertAsync(collection, batch, wait: true, cancellationToken: ct).ConfigureAwait(false);
                QdrantCollections.EnsureApplied(result, "Upsert", collection);
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    // A stored vector that is zero, non-finite or has an all-zero prefix has no prefix to index.
    private static float[]? Prefix(EmbeddingLayout layout, float[]? full)
    {
        if (full is null)
        {
            return null;
        }

        try
        {
            layout.Validate(full, "a stored point");
            return layout.ToPrefix(full);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Migration step done: {Call}")]
    private static partial void LogStep(ILogger logger, string call);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "Migration {Phase}: {Points} points done, next offset {Checkpoint} (none when finished)")]
    private static partial void LogPage(ILogger logger, string phase, long points, QdrantPointId? checkpoint);

    /// <summary>A point read by a scroll: its id, its prefix and full vector (empty when it has none) and its payload.</summary>
    private sealed class ScrolledPoint(QdrantPointId id, float[]? prefix, float[]? full, MapField<string, Proto.Value> payload)
    {
        public QdrantPointId Id { get; } = id;

        public float[] Prefix { get; } = prefix ?? [];

        public float[] Full { get; } = full ?? [];

        public MapField<string, Proto.Value> Payload { get; } = payload;
    }

    private sealed class Run(QdrantMigrationPlan plan, IProgress<QdrantMigrationProgress>? progress)
    {
        private readonly List<QdrantPointId> _samples = [];

        public QdrantMigrationPlan Plan { get; } = plan;

        public IProgress<QdrantMigrationProgress>? Progress { get; } = progress;

        public long Done { get; set; }

        public long WithoutPrefix { get; private set; }

        public IReadOnlyList<QdrantPointId> Samples => _samples;

        public void NoPrefix(QdrantPointId id)
        {
            WithoutPrefix++;
            if (_samples.Count < SampleLimit)
            {
                _samples.Add(id);
            }
        }
    }
}
