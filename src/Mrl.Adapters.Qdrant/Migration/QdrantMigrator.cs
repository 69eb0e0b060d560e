using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mrl.Adapters.Diagnostics;

namespace Mrl.Adapters.Qdrant.Migration;

/// <summary>
/// Gives an existing Qdrant collection the layout <see cref="QdrantAdaptiveStore{TKey}"/> needs: a prefix named vector
/// beside the full vector. In place on Qdrant 1.18+ (<c>PUT /collections/{c}/vectors/{name}</c>, then a backfill by
/// scrolling), or through a new collection, a copy by scrolling, and an atomic alias switch. Plan first
/// (<see cref="PlanAsync"/>, only reads; the plan's text is the dry run), then run the plan (<see cref="ExecuteAsync"/>).
/// Both the backfill and the copy can be resumed from the last <see cref="QdrantMigrationProgress.Checkpoint"/>.
/// </summary>
public sealed partial class QdrantMigrator
{
    private const int SampleLimit = 100;

    private readonly QdrantTransport _transport;
    private readonly QdrantStoreOptions _store;
    private readonly ILogger _logger;

    /// <summary>Creates a migrator that reaches Qdrant through <paramref name="httpClient"/>, which it does not dispose.</summary>
    /// <param name="httpClient">The client to send with.</param>
    /// <param name="store">The options of the store that will use the collection afterwards: connection, collection, layout, vector names, payload indexes.</param>
    /// <param name="logger">Where progress and requests are logged (never the API key).</param>
    /// <exception cref="ArgumentException">The store options are invalid.</exception>
    public QdrantMigrator(HttpClient httpClient, QdrantStoreOptions store, ILogger<QdrantMigrator>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(store);
        store.Validate();
        _store = store;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _transport = new QdrantTransport(() => httpClient, store.Endpoint!, store.ApiKey, store.RequestTimeout, store.MaxResponseBytes, _logger);
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
            using var activity = MrlTelemetry.StartMigrationStep(QdrantAdaptiveStore<long>.SystemName, plan.StoreCollection, StepName(step));
            try
            {
                switch (step)
                {
                    case SendStep send:
                        var result = await _transport.SendForResultAsync(send.Request, cancellationToken).ConfigureAwait(false);
                        QdrantResponses.EnsureApplied(result, send.Request);
                        LogStep(_logger, send.Request);
                        break;
                    case BackfillStep backfill:
                        await ScrollAsync(run, "backfill", backfill.Collection, backfill.FullVectorName, withPayload: false,
                            page => QdrantRequests.UpdatePrefixVectors(backfill.Collection, plan.Store.PrefixVectorName, page, plan.Store.MaxRequestBytes, Describe(page)),
                            skipWithoutPrefix: true, cancellationToken).ConfigureAwait(false);
                        break;
                    case CopyStep copy:
                        await ScrollAsync(run, "copy", copy.Source, copy.SourceVectorName, withPayload: true,
                            page => QdrantRequests.UpsertPoints(copy.Target, plan.Store.PrefixVectorName, plan.Store.FullVectorName, page, plan.Store.MaxRequestBytes, Describe(page)),
                            skipWithoutPrefix: false, cancellationToken).ConfigureAwait(false);
                        break;
                }
            }
            catch (Exception e)
            {
                MrlTelemetry.SetError(activity, e);
                throw;
            }
        }

        return new QdrantMigrationResult(plan.Path, plan.StoreCollection, run.Done, run.WithoutPrefix, run.Samples);
    }

    // A span name without the query string: "PUT /collections/docs/vectors/prefix", "backfill", "copy".
    private static string StepName(QdrantMigrationStep step) => step switch
    {
        SendStep send => send.Request.Method.Method + " /" + send.Request.Path.Split('?')[0],
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
        var version = await QdrantReads.ServerVersionAsync(_transport, cancellationToken).ConfigureAwait(false);
        var aliases = QdrantResponses.Aliases(await _transport.SendForResultAsync(QdrantRequests.ListAliases(), cancellationToken).ConfigureAwait(false));
        var name = _store.Collection;
        var collectionName = aliases.TryGetValue(name, out var aliased) ? aliased : name;
        var source = await QdrantReads.CollectionAsync(_transport, name, collectionName, cancellationToken).ConfigureAwait(false)
                     ?? throw new QdrantMigrationException($"Qdrant has no collection or alias '{name}' to migrate.");
        var targetName = options.TargetCollection ?? QdrantMigrationPlan.DefaultTarget(collectionName);
        var target = options.Path == QdrantMigrationPath.InPlace
            ? null
            : await QdrantReads.CollectionAsync(_transport, targetName, null, cancellationToken).ConfigureAwait(false);
        return new QdrantServerState(version, source, target, aliases);
    }

    private async Task ScrollAsync(
        Run run, string phase, string collection, string? vectorName, bool withPayload, Func<List<QdrantPoint>, List<QdrantRequest>> writes,
        bool skipWithoutPrefix, CancellationToken cancellationToken)
    {
        var layout = run.Plan.Store.Layout!;
        var offset = run.Plan.ResumeFrom;
        do
        {
            var scroll = QdrantRequests.Scroll(collection, offset, run.Plan.BatchSize, vectorName, withPayload);
            using var document = await _transport.SendAsync(scroll, cancellationToken).ConfigureAwait(false);
            var (page, next) = QdrantResponses.ScrollPage(QdrantResponses.Result(document.RootElement, scroll), vectorName, layout.FullDimensions);

            var points = new List<QdrantPoint>(page.Count);
            foreach (var point in page)
            {
                var prefix = Prefix(layout, point.Vector);
                if (prefix is null)
                {
                    run.NoPrefix(point.Id);
                    if (skipWithoutPrefix)
                    {
                        continue;
                    }
                }

                points.Add(new QdrantPoint(point.Id, prefix ?? ReadOnlyMemory<float>.Empty, point.Vector ?? ReadOnlyMemory<float>.Empty, point.Payload, null));
            }

            if (points.Count > 0)
            {
                foreach (var write in writes(points))
                {
                    var result = await _transport.SendForResultAsync(write, cancellationToken).ConfigureAwait(false);
                    QdrantResponses.EnsureApplied(result, write);
                }
            }

            run.Done += page.Count;
            offset = next;
            run.Progress?.Report(new QdrantMigrationProgress(phase, run.Done, run.Plan.PointsTotal, run.WithoutPrefix, offset));
            LogPage(_logger, phase, run.Done, offset);
        }
        while (offset is not null);
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

    private static Func<int, string> Describe(List<QdrantPoint> page) => i => $"Point {page[i].Id}";

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Migration step done: {Request}")]
    private static partial void LogStep(ILogger logger, QdrantRequest request);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "Migration {Phase}: {Points} points done, next offset {Checkpoint} (none when finished)")]
    private static partial void LogPage(ILogger logger, string phase, long points, QdrantPointId? checkpoint);

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
