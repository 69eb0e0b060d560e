using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Mrl.Adapters.Diagnostics;

namespace Mrl.Adapters.Testing;

/// <summary>
/// Records the spans and measurements of the <c>Mrl.Adapters</c> ActivitySource and Meter while it lives, for tests that
/// assert on telemetry. Tests run in parallel, so every span is started under a root of the capture's own
/// (<see cref="StartRoot"/>) and read back by its trace; measurements are read back by a tag the test controls.
/// </summary>
public sealed class TelemetryCapture : IDisposable
{
    private const string TestSourceName = "Mrl.Adapters.Testing";
    private static readonly ActivitySource TestSource = new(TestSourceName);
    private readonly ActivityListener _activityListener;
    private readonly MeterListener _meterListener;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ConcurrentQueue<Measurement> _measurements = new();
    private bool _disposed;

    /// <summary>Starts listening.</summary>
    public TelemetryCapture()
    {
        _activityListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is MrlInstrumentation.Name or TestSourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_activityListener);

        _meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == MrlInstrumentation.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _meterListener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        _meterListener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        _meterListener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        _meterListener.Start();
    }

    /// <summary>Starts a root span; spans started while it is current belong to this test.</summary>
    public Activity StartRoot(string name = "test")
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return TestSource.StartActivity(name, ActivityKind.Internal) ?? throw new InvalidOperationException("The capture's listener did not sample the root span.");
    }

    /// <summary>The finished library spans under <paramref name="root"/>, in the order they stopped.</summary>
    public IReadOnlyList<Activity> SpansOf(Activity root)
    {
        ArgumentNullException.ThrowIfNull(root);
        return _stopped.Where(a => a.TraceId == root.TraceId && a.Source.Name == MrlInstrumentation.Name).ToArray();
    }

    /// <summary>The measurements of instrument <paramref name="instrument"/> whose tag <paramref name="tag"/> equals <paramref name="value"/>.</summary>
    public IReadOnlyList<Measurement> MeasurementsOf(string instrument, string tag, object value) =>
        _measurements.Where(m => m.Instrument == instrument && m.Tags.TryGetValue(tag, out var v) && Equals(v, value)).ToArray();

    /// <inheritdoc />
    public void Dispose()
    {
        _disposed = true;
        _activityListener.Dispose();
        _meterListener.Dispose();
    }

    private void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags) where T : struct
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        _measurements.Enqueue(new Measurement(instrument.Name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), copy));
    }

    /// <summary>One recorded measurement.</summary>
    /// <param name="Instrument">The instrument's name.</param>
    /// <param name="Value">The value, as a double.</param>
    /// <param name="Tags">The measurement's tags.</param>
    public sealed record Measurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags);
}
