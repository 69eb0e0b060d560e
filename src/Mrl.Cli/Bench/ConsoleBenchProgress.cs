using Mrl.Bench;
using Spectre.Console;

namespace Mrl.Cli.Bench;

/// <summary>The benchmark engine's steps as Spectre.Console progress bars.</summary>
internal sealed class ConsoleBenchProgress(ProgressContext context) : IBenchProgress
{
    /// <summary>Runs <paramref name="work"/> with progress bars that stay on the screen when it ends.</summary>
    public static Task<T> RunAsync<T>(Func<IBenchProgress, Task<T>> work) => NewProgress().StartAsync(context => work(new ConsoleBenchProgress(context)));

    /// <summary>Runs <paramref name="work"/> with progress bars that stay on the screen when it ends.</summary>
    public static T Run<T>(Func<IBenchProgress, T> work) => NewProgress().Start(context => work(new ConsoleBenchProgress(context)));

    public IBenchStep AddTask(string description, double maxValue) => new Step(context.AddTask(TerminalText.Markup(description), maxValue: maxValue));

    private static Progress NewProgress() => AnsiConsole.Progress()
        .AutoClear(false)
        .HideCompleted(false)
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn());

    private sealed class Step(ProgressTask task) : IBenchStep
    {
        private string _description = task.Description;

        public string Description
        {
            get => _description;
            set
            {
                _description = value;
                task.Description = TerminalText.Markup(value);
            }
        }

        public double Value
        {
            get => task.Value;
            set => task.Value = value;
        }

        public void Increment(double amount) => task.Increment(amount);

        public void StopTask() => task.StopTask();
    }
}
