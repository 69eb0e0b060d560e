namespace Mrl.Bench;

/// <summary>Where a benchmark reports its steps: a terminal's progress bars, a log, or nothing.</summary>
internal interface IBenchProgress
{
    /// <summary>Starts a step that counts up to <paramref name="maxValue"/>; the description is plain text.</summary>
    IBenchStep AddTask(string description, double maxValue);
}

/// <summary>One step of a benchmark.</summary>
internal interface IBenchStep
{
    /// <summary>What the step is doing, as plain text.</summary>
    string Description { get; set; }

    /// <summary>How far it is, up to its maximum.</summary>
    double Value { get; set; }

    /// <summary>Adds <paramref name="amount"/> to <see cref="Value"/>.</summary>
    void Increment(double amount);

    /// <summary>Marks the step finished, wherever its value stands.</summary>
    void StopTask();
}

/// <summary>Progress that goes nowhere, for callers without a screen (tests, libraries).</summary>
internal sealed class SilentBenchProgress : IBenchProgress
{
    public static SilentBenchProgress Instance { get; } = new();

    public IBenchStep AddTask(string description, double maxValue) => new Step { Description = description };

    private sealed class Step : IBenchStep
    {
        public string Description { get; set; } = "";

        public double Value { get; set; }

        public void Increment(double amount) => Value += amount;

        public void StopTask()
        {
        }
    }
}
