using System.Diagnostics;

namespace Mrl.Adapters.Diagnostics;

/// <summary>
/// One store's spans and measurements, for store implementations: wrap each operation in the matching <c>Trace</c>
/// method and the store emits the same spans, tags and metrics as the built-in stores (see docs/telemetry.md). The tags
/// that identify the store (system, collection, layout) are fixed at construction, so each operation only adds what varies.
/// Costs nothing measurable when no listener is attached to <see cref="MrlInstrumentation"/>'s source and meter.
/// </summary>
public sealed class StoreTelemetry
{
    private readonly ActivityKind _kind;
    private readonly EmbeddingLayout _layout;

    /// <param name="systemName">The <c>db.system.name</c>: <c>postgresql</c>, <c>qdrant</c>, <c>inmemory</c>.</param>
    /// <param name="collectionName">The table or collection, or null when the store has none.</param>
    /// <param name="layout">The store's layout.</param>
    /// <param name="kind"><see cref="ActivityKind.Client"/> for a remote database, <see cref="ActivityKind.Internal"/> in process.</param>
    /// <exception cref="ArgumentException"><paramref name="systemName"/> is empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="layout"/> is null.</exception>
    public StoreTelemetry(string systemName, string? collectionName, EmbeddingLayout layout, ActivityKind kind)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(systemName);
        ArgumentNullException.ThrowIfNull(layout);
        SystemName = systemName;
        CollectionName = collectionName;
        _layout = layout;
        _kind = kind;
    }

    /// <summary>The <c>db.system.name</c> every span and measurement carries.</summary>
    public string SystemName { get; }

    /// <summary>The <c>db.collection.name</c>, or null.</summary>
    public string? CollectionName { get; }

    /// <summary>
    /// Runs an upsert of <paramref name="records"/> inside its span and records the records written, or the failure.
    /// </summary>
    /// <remarks>The work takes its state as an argument so that a static lambda serves and no closure is allocated per call.</remarks>
    public async Task TraceUpsertAsync<TState, TRecord>(
        TState state,
        IReadOnlyList<TRecord> records,
        Func<TState, IReadOnlyList<TRecord>, CancellationToken, Task> upsert,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = Start(StoreOperations.Upsert);
        try
        {
            await upsert(state, records, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Failed(activity, StoreOperations.Upsert, e, started);
            throw;
        }

        Wrote(activity, records.Count, started);
    }

    /// <summary>
    /// Runs an operation other than search and upsert (<paramref name="operation"/> is one of <see cref="StoreOperations"/>'s
    /// names, or the store's own) inside its span and records its duration, the rows it returned when
    /// <paramref name="returnedRows"/> says, or the failure.
    /// </summary>
    public async Task<TResult> TraceAsync<TState, TArgument, TResult>(
        string operation,
        TState state,
        TArgument argument,
        Func<TState, TArgument, CancellationToken, Task<TResult>> run,
        Func<TResult, long>? returnedRows,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = Start(operation);
        try
        {
            var result = await run(state, argument, cancellationToken).ConfigureAwait(false);
            Completed(activity, operation, started, returnedRows?.Invoke(result));
            return result;
        }
        catch (Exception e)
        {
            Failed(activity, operation, e, started);
            throw;
        }
    }

    /// <summary>Runs a search inside its span and records its diagnostics and per-stage measurements, or the failure.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null; no span is started.</exception>
    public async Task<SearchResult<TKey>> TraceSearchAsync<TState, TKey>(
        TState state,
        ReadOnlyMemory<float> query,
        SearchOptions options,
        Func<TState, ReadOnlyMemory<float>, SearchOptions, CancellationToken, Task<SearchResult<TKey>>> search,
        CancellationToken cancellationToken)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(options);
        var started = Stopwatch.GetTimestamp();
        using var activity = StartSearch(options);
        try
        {
            var result = await search(state, query, options, cancellationToken).ConfigureAwait(false);
            Searched(activity, options, result, started);
            return result;
        }
        catch (Exception e)
        {
            Failed(activity, StoreOperations.Search, e, started);
            throw;
        }
    }

    /// <summary>Starts the span of one migration step, named <c>{step} {collection}</c>; dispose it when the step ends.</summary>
    /// <returns>The span, or null when nobody listens.</returns>
    public static Activity? StartMigrationStep(string systemName, string collectionName, string step) =>
        MrlTelemetry.StartMigrationStep(systemName, collectionName, step);

    /// <summary>Marks a span failed the way the OpenTelemetry conventions ask: status Error and <c>error.type</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="exception"/> is null.</exception>
    public static void SetError(Activity? activity, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        MrlTelemetry.SetError(activity, exception);
    }

    /// <summary>Starts the span of one operation, named <c>{operation} {collection}</c> as the conventions ask.</summary>
    private Activity? Start(string operation)
    {
        if (!MrlTelemetry.Source.HasListeners())
        {
            return null;
        }

        var activity = MrlTelemetry.Source.StartActivity(CollectionName is null ? operation : operation + " " + CollectionName, _kind);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(MrlTags.DbSystemName, SystemName);
            if (CollectionName is not null)
            {
                activity.SetTag(MrlTags.DbCollectionName, CollectionName);
            }

            activity.SetTag(MrlTags.DbOperationName, operation);
            activity.SetTag(MrlTags.FullDimensions, _layout.FullDimensions);
            activity.SetTag(MrlTags.PrefixDimensions, _layout.PrefixDimensions);
            activity.SetTag(MrlTags.Metric, _layout.Metric.ToString());
        }

        return activity;
    }

    /// <summary>Starts a search span with the two-pass knobs as tags.</summary>
    private Activity? StartSearch(SearchOptions options)
    {
        var activity = Start(StoreOperations.Search);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(MrlTags.K, options.K);
            activity.SetTag(MrlTags.Oversampling, options.Oversampling);
            activity.SetTag(MrlTags.StrategyRequested, SearchStrategyNames.Name(options.Strategy));
            activity.SetTag(MrlTags.Filtered, options.Filter is not null);
            if (options.EfSearch is { } efSearch)
            {
                activity.SetTag(MrlTags.EfSearch, efSearch);
            }
        }

        return activity;
    }

    /// <summary>Records a finished search: its diagnostics on the span and in the per-stage histograms.</summary>
    private void Searched<TKey>(Activity? activity, SearchOptions options, SearchResult<TKey> result, long started) where TKey : notnull
    {
        var diagnostics = result.Diagnostics;
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(MrlTags.Strategy, diagnostics.StrategyName);
            activity.SetTag(MrlTags.CandidatesFetched, diagnostics.CandidatesFetched);
            activity.SetTag(MrlTags.BytesFetched, diagnostics.BytesFetched);
            activity.SetTag(MrlTags.DbReturnedRows, result.Hits.Count);
            if (diagnostics.Cache is { } cache)
            {
                activity.SetTag(MrlTags.CacheHits, cache.Hits);
                activity.SetTag(MrlTags.CacheMisses, cache.Misses);
                activity.SetTag(MrlTags.CacheStale, cache.Stale);
            }
        }

        var tags = Tags(StoreOperations.Search);
        tags.Add(MrlTags.PrefixDimensions, _layout.PrefixDimensions);
        tags.Add(MrlTags.Oversampling, options.Oversampling);
        tags.Add(MrlTags.Strategy, diagnostics.StrategyName);
        MrlTelemetry.OperationDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        MrlTelemetry.Pass1Duration.Record(diagnostics.Pass1Time.TotalSeconds, tags);
        if (diagnostics.Pass2Time > TimeSpan.Zero)
        {
            MrlTelemetry.Pass2Duration.Record(diagnostics.Pass2Time.TotalSeconds, tags);
        }

        MrlTelemetry.CandidatesFetched.Record(diagnostics.CandidatesFetched, tags);
        MrlTelemetry.BytesFetched.Record(diagnostics.BytesFetched, tags);
    }

    /// <summary>Records a finished upsert of <paramref name="records"/> records.</summary>
    private void Wrote(Activity? activity, int records, long started)
    {
        activity?.SetTag(MrlTags.RecordCount, records);
        var tags = Tags(StoreOperations.Upsert);
        MrlTelemetry.OperationDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        MrlTelemetry.RecordsWritten.Add(records, tags);
    }

    /// <summary>Records a finished operation other than search and upsert.</summary>
    private void Completed(Activity? activity, string operation, long started, long? rows = null)
    {
        if (rows is { } count)
        {
            activity?.SetTag(MrlTags.DbReturnedRows, count);
        }

        MrlTelemetry.OperationDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, Tags(operation));
    }

    /// <summary>Records a failed operation: the span's status and the duration with <c>error.type</c>.</summary>
    private void Failed(Activity? activity, string operation, Exception exception, long started)
    {
        MrlTelemetry.SetError(activity, exception);
        var tags = Tags(operation);
        tags.Add(MrlTags.ErrorType, exception.GetType().FullName);
        MrlTelemetry.OperationDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
    }

    private TagList Tags(string operation)
    {
        var tags = new TagList
        {
            { MrlTags.DbSystemName, SystemName },
            { MrlTags.DbOperationName, operation },
        };
        if (CollectionName is not null)
        {
            tags.Add(MrlTags.DbCollectionName, CollectionName);
        }

        return tags;
    }
}
