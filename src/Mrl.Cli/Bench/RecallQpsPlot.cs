using System.Globalization;
using Mrl.Bench;
using ScottPlot;
using SkiaSharp;

namespace Mrl.Cli.Bench;

/// <summary>
/// recall-vs-qps.png: one colour per strategy (and backend), a marker per configuration, a line along each strategy's
/// best trade-offs (the configurations no other of the same strategy beats on both recall and QPS), and the target recall.
/// Recall is drawn on a scale stretched toward 1 (<c>-log10(1 - recall)</c>, labelled in recall), where the strategies
/// differ; QPS is on a log scale when it spans more than a factor of ten.
/// </summary>
internal static class RecallQpsPlot
{
    // Recall 1.0 would be infinitely far on the stretched scale: it is drawn one step past 0.9999.
    private const double Floor = 1e-4;
    private static readonly double[] RecallTicks = [0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 1];
    private static readonly MarkerShape[] Shapes = [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond];

    public static void Save(IReadOnlyList<BenchResult> results, string path, string title, double targetRecall)
    {
        var points = results.Where(r => r.Clients == 1 && r.Qps > 0).ToArray();
        if (points.Length == 0)
        {
            return;
        }

        var plot = new Plot();
        var log = points.Max(r => r.Qps) / points.Min(r => r.Qps) > 10;
        var backends = points.Select(r => r.Backend).Distinct().ToArray();
        var palette = new ScottPlot.Palettes.Category10();
        var series = points.GroupBy(r => (r.Backend, r.Strategy))
            .OrderBy(g => Array.IndexOf(backends, g.Key.Backend)).ThenBy(g => Order(g.Key.Strategy)).ToArray();
        for (var i = 0; i < series.Length; i++)
        {
            var color = palette.GetColor(i);
            var (backend, strategy) = series[i].Key;
            var label = backends.Length > 1 ? $"{backend} {strategy}" : strategy;
            var all = series[i].OrderBy(r => r.Recall).ToArray();
            var markers = plot.Add.ScatterPoints(all.Select(r => X(r.Recall)).ToArray(), all.Select(r => Y(r.Qps, log)).ToArray(), color);
            markers.MarkerShape = Shapes[Array.IndexOf(backends, backend) % Shapes.Length];
            markers.MarkerSize = 7;
            markers.LegendText = label;

            var frontier = Frontier(all);
            if (frontier.Length > 1)
            {
                var line = plot.Add.ScatterLine(frontier.Select(r => X(r.Recall)).ToArray(), frontier.Select(r => Y(r.Qps, log)).ToArray(), color);
                line.LineWidth = 2;
            }
        }

        var target = plot.Add.VerticalLine(X(targetRecall), 1.5f, Colors.Gray, LinePattern.Dashed);
        target.LegendText = string.Create(CultureInfo.InvariantCulture, $"target recall {targetRecall}");

        if (log)
        {
            plot.Axes.Left.TickGenerator = LogTicks(points.Min(r => r.Qps), points.Max(r => r.Qps));
            plot.Grid.YAxisStyle.MinorLineStyle.Width = 1;
            plot.Grid.YAxisStyle.MinorLineStyle.Color = Colors.Black.WithOpacity(0.06);
        }

        plot.Font.Set(SansFont, FontWeight.Normal, FontSlant.Upright, FontSpacing.Normal);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        var minRecall = points.Min(r => r.Recall);
        var lowest = RecallTicks.Last(t => t <= minRecall);
        var ticks = RecallTicks.Where(t => t >= lowest).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            ticks.Select(X).ToArray(), ticks.Select(t => t.ToString("0.###", CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.SetLimitsX(X(ticks[0]) - 0.05, X(1) + 0.1);
        plot.Title(title, 16);
        plot.XLabel(string.Create(CultureInfo.InvariantCulture, $"recall@{points[0].K} against exact full-dimension kNN (scale stretched toward 1)"), 14);
        plot.YLabel(log ? "queries per second, 1 client (log scale)" : "queries per second, 1 client", 14);
        plot.Legend.FontSize = 13;
        plot.ShowLegend(Edge.Right);
        plot.SavePng(path, 1400, 900);
    }

    /// <summary>Whether Skia finds any font: without one the plot is drawn with no text at all.</summary>
    public static bool HasFonts => SKFontManager.Default.FontFamilies.Any();

    // ScottPlot's own choice of sans font is not installed on every Linux machine; DejaVu Sans usually is.
    private static string SansFont => SKFontManager.Default.FontFamilies.Contains("DejaVu Sans") ? "DejaVu Sans" : Fonts.Sans;

    // Labels at 1, 2 and 5 times each power of ten, minor ticks at the other multiples: a log axis a person can read.
    private static ScottPlot.TickGenerators.NumericManual LogTicks(double min, double max)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (var exponent = (int)Math.Floor(Math.Log10(min)); exponent <= (int)Math.Ceiling(Math.Log10(max)); exponent++)
        {
            for (var multiple = 1; multiple <= 9; multiple++)
            {
                var value = multiple * Math.Pow(10, exponent);
                if (multiple is 1 or 2 or 5)
                {
                    ticks.AddMajor(Math.Log10(value), value.ToString("#,0.##", CultureInfo.InvariantCulture));
                }
                else
                {
                    ticks.AddMinor(Math.Log10(value));
                }
            }
        }

        return ticks;
    }

    private static double X(double recall) => -Math.Log10(Math.Max(0, 1 - recall) + Floor);

    private static double Y(double qps, bool log) => log ? Math.Log10(qps) : qps;

    // Highest recall first; a configuration stays if it is faster than every one with at least its recall.
    private static BenchResult[] Frontier(IEnumerable<BenchResult> results)
    {
        var frontier = new List<BenchResult>();
        var fastest = double.NegativeInfinity;
        foreach (var result in results.OrderByDescending(r => r.Recall).ThenByDescending(r => r.Qps))
        {
            if (result.Qps > fastest)
            {
                frontier.Add(result);
                fastest = result.Qps;
            }
        }

        return frontier.OrderBy(r => r.Recall).ToArray();
    }

    private static int Order(string strategy)
    {
        var index = BenchStrategy.All.ToList().IndexOf(strategy);
        return index < 0 ? int.MaxValue : index;
    }
}
