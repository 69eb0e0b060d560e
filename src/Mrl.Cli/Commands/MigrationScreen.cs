using System.Globalization;
using Mrl.Adapters.Pgvector;
using Spectre.Console;

namespace Mrl.Cli.Commands;

/// <summary>
/// What <c>mrl migrate postgres</c> shows while it runs. On a terminal: a bar per step, a step's timer stopping when it
/// ends, and the index build's progress from <c>pg_stat_progress_create_index</c>. Otherwise (a log file, a pipe): each
/// step's final state on a line of its own, once, as it ends.
/// </summary>
internal sealed class MigrationScreen
{
    private readonly ProgressContext? _context;
    private readonly Dictionary<string, ProgressTask> _tasks = [];
    private ProgressTask? _build;
    private readonly HashSet<string> _printed = new(StringComparer.Ordinal);
    private string? _lastBuildLine;

    private MigrationScreen(ProgressContext? context) => _context = context;

    public static Task RunAsync(Func<MigrationScreen, Task> work) => AnsiConsole.Profile.Capabilities.Interactive
        ? AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(context => work(new MigrationScreen(context)))
        : work(new MigrationScreen(null));

    public void Report(MigrationProgress p)
    {
        if (p.Step == "preflight")
        {
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[yellow]note: {TerminalText.Plain(p.Message)}[/]");
            return;
        }

        if (p.Message.Contains("retry", StringComparison.Ordinal) || p.Message.Contains("INVALID", StringComparison.Ordinal))
        {
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[yellow]{TerminalText.Plain(p.Message)}[/]");
        }

        var finished = p.Total == 0 || p.Done >= p.Total;
        if (finished && _build is not null && _context is not null)
        {
            // The build's bar becomes the bar of the step that reports its end.
            _build.Description = Markup.Escape(p.Step);
            _tasks.TryAdd(p.Step, _build);
        }

        if (finished)
        {
            FinishBuild();
        }

        if (_context is null)
        {
            if (finished && p.Message.Length > 0 && _printed.Add(p.Message))
            {
                AnsiConsole.WriteLine(TerminalText.Plain(p.Message));
            }

            return;
        }

        if (!_tasks.TryGetValue(p.Step, out var task))
        {
            // Steps run one after another: a new one means the earlier ones ended, and their timers stop.
            StopAll();

            task = _tasks[p.Step] = _context.AddTask(Markup.Escape(p.Step), maxValue: Math.Max(1, p.Total));
        }

        task.MaxValue = Math.Max(1, p.Total);
        task.Value = p.Total == 0 ? 1 : p.Done;
        if (finished)
        {
            Stop(task);
        }
    }

    public void ReportBuild(IndexBuildProgress build)
    {
        var (done, total) = build.TuplesTotal > 0 ? (build.TuplesDone, build.TuplesTotal) : (build.BlocksDone, build.BlocksTotal);
        if (_context is null)
        {
            // A log gets each phase of the build once, not a line per poll.
            var description = string.Create(CultureInfo.InvariantCulture, $"index {build.IndexName}: {build.Phase}");
            if (description != _lastBuildLine)
            {
                _lastBuildLine = description;
                AnsiConsole.WriteLine(TerminalText.Plain(description));
            }

            return;
        }

        StopAll();

        _build ??= _context.AddTask("index", maxValue: 1);
        // The phase alone: the index's name would squeeze the bar out of an 80-column screen.
        _build.Description = TerminalText.Markup("index: " + build.Phase.Replace("building index: ", "", StringComparison.Ordinal));
        _build.Value = total > 0 ? Math.Min(1, done / (double)total) : _build.Value;
    }

    private void FinishBuild()
    {
        if (_build is not null)
        {
            _build.Value = 1;
            Stop(_build);
            _build = null;
        }

        _lastBuildLine = null;
    }

    // StopTask moves the stop time on every call: a stopped timer is left alone.
    private static void Stop(ProgressTask task)
    {
        if (task.StopTime is null)
        {
            task.StopTask();
        }
    }

    private void StopAll()
    {
        foreach (var task in _tasks.Values)
        {
            Stop(task);
        }
    }
}
