using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;

namespace Mrl.Adapters.Diagnostics;

/// <summary>
/// The library's one <see cref="ActivitySource"/> and <see cref="Meter"/>, both named <see cref="MrlInstrumentation.Name"/>,
/// and the instruments every store reports through. Tags follow the OpenTelemetry database client conventions; vector
/// values, filter values and connection strings never become tags.
/// </summary>
internal static class MrlTelemetry
{
    public const string Pass1SpanName = "mrl.pass1";
    public const string Pass2SpanName = "mrl.pass2";

    private static readonly string? Version = typeof(MrlTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

    public static readonly ActivitySource Source = new(MrlInstrumentation.Name, Version);

    public static readonly Meter Meter = new(MrlInstrumentation.Name, Version);

    // Buckets from 100 µs to 10 s: pass 1 in memory takes well under a millisecond, an HNSW query on a busy server seconds.
    private static readonly double[] DurationBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    public static readonly Histogram<double> OperationDuration = Meter.CreateHistogram(
        "db.client.operation.duration", "s", "Duration of store operations.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    public static readonly Histogram<double> Pass1Duration = Meter.CreateHistogram(
        "mrl.search.pass1.duration", "s", "Time spent in pass 1, the approximate search on the prefix, including the transfer of the candidates.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    public static readonly Histogram<double> Pass2Duration = Meter.CreateHistogram(
        "mrl.search.pass2.duration", "s", "Time spent in pass 2, the exact rescore of the candidates on the full vectors in process.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    public static readonly Histogram<int> CandidatesFetched = Meter.CreateHistogram<int>(
        "mrl.search.candidates", "{candidate}", "Candidates pass 1 returned per query.");

    public static readonly Histogram<long> BytesFetched = Meter.CreateHistogram<long>(
        "mrl.search.bytes_fetched", "By", "Bytes of full vectors moved into this process per query for pass 2.");

    public static readonly Counter<long> RecordsWritten = Meter.CreateCounter<long>(
        "mrl.records.written", "{record}", "Records inserted or replaced.");

    /// <summary>Starts the pass-1 child span of the current search, when anyone listens.</summary>
    public static Activity? StartPass1(CandidateRequest request)
    {
        var activity = Source.StartActivity(Pass1SpanName, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(MrlTags.CandidatesRequested, request.Count);
            activity.SetTag(MrlTags.PrefixDimensions, request.PrefixQuery.Length);
            if (request.EfSearch is { } efSearch)
            {
                activity.SetTag(MrlTags.EfSearch, efSearch);
            }
        }

        return activity;
    }

    /// <summary>Completes the pass-1 span with what pass 1 returned.</summary>
    public static void StopPass1<TKey>(Activity? activity, CandidateBatch<TKey> batch) where TKey : notnull
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(MrlTags.CandidatesFetched, batch.Candidates.Count);
            activity.SetTag(MrlTags.BytesFetched, batch.BytesFetched);
        }
    }

    /// <summary>Starts the pass-2 child span of the current search, when anyone listens.</summary>
    public static Activity? StartPass2(int candidates, int k)
    {
        var activity = Source.StartActivity(Pass2SpanName, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(MrlTags.CandidatesFetched, candidates);
            activity.SetTag(MrlTags.K, k);
        }

        return activity;
    }

    /// <summary>Starts the span of one migration step, named <c>{step} {collection}</c>.</summary>
    public static Activity? StartMigrationStep(string systemName, string collectionName, string step)
    {
        var activity = Source.StartActivity(step + " " + collectionName, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(MrlTags.DbSystemName, systemName);
            activity.SetTag(MrlTags.DbCollectionName, collectionName);
            activity.SetTag(MrlTags.DbOperationName, step);
            activity.SetTag(MrlTags.MigrationStep, step);
        }

        return activity;
    }

    /// <summary>Marks a span failed the way the OpenTelemetry conventions ask: status Error and <c>error.type</c>.</summary>
    public static void SetError(Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.SetTag(MrlTags.ErrorType, exception.GetType().FullName);
    }
}
