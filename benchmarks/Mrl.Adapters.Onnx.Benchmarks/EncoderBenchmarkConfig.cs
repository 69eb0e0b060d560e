using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Mrl.Adapters.Onnx.Benchmarks;

/// <summary>Adds sentences per second and the share of end-to-end time spent outside the model to the summary table.</summary>
public sealed class EncoderBenchmarkConfig : ManualConfig
{
    public EncoderBenchmarkConfig()
    {
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(new SentencesPerSecondColumn(), new OutsideRunColumn());
        HideColumns(Column.Ratio, Column.RatioSD);
    }

    private static double? MeanNanoseconds(Summary summary, BenchmarkCase benchmarkCase) => summary[benchmarkCase]?.ResultStatistics?.Mean;

    private static int Batch(BenchmarkCase benchmarkCase) => (int)benchmarkCase.Parameters[nameof(EncoderBenchmarks.Batch)];

    private static int Threads(BenchmarkCase benchmarkCase) => (int)benchmarkCase.Parameters[nameof(EncoderBenchmarks.Threads)];

    /// <summary>Texts embedded per second by the measured operation.</summary>
    private sealed class SentencesPerSecondColumn : IColumn
    {
        public string Id => nameof(SentencesPerSecondColumn);

        public string ColumnName => "Sentences/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Texts per second through the measured operation (batch / mean)";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
            MeanNanoseconds(summary, benchmarkCase) is { } mean ? (Batch(benchmarkCase) * 1e9 / mean).ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : "-";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public bool IsAvailable(Summary summary) => true;
    }

    /// <summary>For the end-to-end row, 1 - RunOnly / EndToEnd with the same parameters.</summary>
    private sealed class OutsideRunColumn : IColumn
    {
        public string Id => nameof(OutsideRunColumn);

        public string ColumnName => "Outside Run";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 1;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Share of the end-to-end time not spent in InferenceSession.Run: 1 - RunOnly / EndToEnd (means of separate runs)";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
        {
            if (benchmarkCase.Descriptor.WorkloadMethod.Name != nameof(EncoderBenchmarks.EndToEnd))
            {
                return "-";
            }

            var runOnly = summary.BenchmarksCases.FirstOrDefault(other =>
                other.Descriptor.WorkloadMethod.Name == nameof(EncoderBenchmarks.RunOnly)
                && Batch(other) == Batch(benchmarkCase) && Threads(other) == Threads(benchmarkCase));
            return runOnly is not null && MeanNanoseconds(summary, benchmarkCase) is { } total && MeanNanoseconds(summary, runOnly) is { } run
                ? (1 - run / total).ToString("P1", System.Globalization.CultureInfo.InvariantCulture)
                : "-";
        }

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public bool IsAvailable(Summary summary) => true;
    }
}
