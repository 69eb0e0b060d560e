using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Mrl.Adapters.Diagnostics;
using Spectre.Console;

namespace Mrl.Cli;

/// <summary>
/// <c>--trace</c>: listens to the library's ActivitySource and Meter while a command runs, then prints the span tree of
/// the first operation of each kind (search per strategy and oversampling, upsert, each migration step) and a summary of
/// the per-stage measurements. Spans are kept up to a bound (a long benchmark makes millions); measurements are
/// aggregated as they come, so they cover the whole run.
/// </summary>
internal sealed class TraceRecorder : IDisposable
{
    private const int MaxSpans = 20_000;
    private static readonly string[] HiddenTags = ["db.system.name", "db.collection.name", "db.operation.name", "mrl.full_dimensions", "mrl.metric"];
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ConcurrentDictionary<(string Instrument, string Unit, string Strategy), Summary> _measurements = new();

    private TraceRecorder()
    {
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == MrlInstrumentation.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (_stopped.Count < MaxSpans)
                {
                    _stopped.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_activities);
        _meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == MrlInstrumentation.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _meters.SetMeasurementEventCallback<double>((i, v, t, _) => Measure(i, v, t));
        _meters.SetMeasurementEventCallback<int>((i, v, t, _) => Measure(i, v, t));
        _meters.SetMeasurementEventCallback<long>((i, v, t, _) => Measure(i, v, t));
        _meters.Start();
    }

    /// <summary>The <c>--trace</c> option.</summary>
    public static Option<bool> CreateOption() =>
        new("--trace") { Description = "Print the span tree of one operation of each kind and the per-stage measurements (ActivitySource and Meter 'Mrl.Adapters')." };

    /// <summary>A recorder when <paramref name="enabled"/>, else null.</summary>
    public static TraceRecorder? StartIf(bool enabled) => enabled ? new TraceRecorder() : null;

    /// <summary>Prints the span trees and the measurement summary.</summary>
    public void Print()
    {
        var spans = _stopped.ToArray();
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        var children = spans.Where(s => ids.Contains(s.ParentSpanId)).ToLookup(s => s.ParentSpanId);
        var roots = spans.Where(s => !ids.Contains(s.ParentSpanId))
            .GroupBy(s => (s.OperationName, Strategy: Tag(s, "mrl.strategy"), Oversampling: Tag(s, "mrl.oversampling")))
            .Select(g => g.First())
            .OrderBy(s => s.StartTimeUtc);

        var tree = new Tree($"[bold]spans[/] (ActivitySource {MrlInstrumentation.Name}; the first of each kind)");
        foreach (var root in roots)
        {
            Add(tree.AddNode(Describe(root)), root, children);
        }

        AnsiConsole.Write(tree);
        // One line per instrument and strategy: tables wrap badly in the 80 columns of a redirected console.
        AnsiConsole.MarkupLine($"[bold]measurements[/] (Meter {MrlInstrumentation.Name}; durations in ms)");
        foreach (var ((instrument, unit, strategy), summary) in _measurements.OrderBy(m => m.Key.Instrument, StringComparer.Ordinal).ThenBy(m => m.Key.Strategy, StringComparer.Ordinal))
        {
            var scale = unit == "s" ? 1000 : 1;
            var label = strategy.Length == 0 ? instrument : $"{instrument} [{strategy}]";
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {label}: n={summary.Count} mean={Format(summary.Sum / summary.Count * scale)} min={Format(summary.Min * scale)} max={Format(summary.Max * scale)} {(unit == "s" ? "ms" : unit)}"));
        }
    }

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
    }

    private static void Add(TreeNode node, Activity parent, ILookup<ActivitySpanId, Activity> children)
    {
        foreach (var child in children[parent.SpanId].OrderBy(c => c.StartTimeUtc))
        {
            Add(node.AddNode(Describe(child)), child, children);
        }
    }

    private static string Describe(Activity span)
    {
        var tags = span.TagObjects.Where(t => !HiddenTags.Contains(t.Key)).Select(t => $"{t.Key}={Convert.ToString(t.Value, CultureInfo.InvariantCulture)}");
        var system = span.GetTagItem("db.system.name") is { } name ? $" [grey]{TerminalText.Markup(name.ToString()!)}[/]" : "";
        var status = span.Status == ActivityStatusCode.Error ? " [red]error[/]" : "";
        return $"[bold]{TerminalText.Markup(span.OperationName)}[/]{system} {span.Duration.TotalMilliseconds.ToString("F3", CultureInfo.InvariantCulture)} ms{status} [grey]{TerminalText.Markup(string.Join(' ', tags))}[/]";
    }

    private static string Tag(Activity span, string key) => Convert.ToString(span.GetTagItem(key), CultureInfo.InvariantCulture) ?? "";

    private static string Format(double value) => value.ToString(value >= 100 ? "F0" : "F3", CultureInfo.InvariantCulture);

    private void Measure<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags) where T : struct
    {
        var strategy = "";
        var operation = "";
        foreach (var tag in tags)
        {
            if (tag.Key == "mrl.strategy")
            {
                strategy = Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? "";
            }
            else if (tag.Key == "db.operation.name")
            {
                operation = Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? "";
            }
        }

        var name = instrument.Name == "db.client.operation.duration" ? $"{instrument.Name} ({operation})" : instrument.Name;
        var number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
        _measurements.AddOrUpdate((name, instrument.Unit ?? "", strategy), _ => new Summary(1, number, number, number), (_, s) => s.Add(number));
    }

    private sealed record Summary(long Count, double Sum, double Min, double Max)
    {
        public Summary Add(double value) => new(Count + 1, Sum + value, Math.Min(Min, value), Math.Max(Max, value));
    }
}
