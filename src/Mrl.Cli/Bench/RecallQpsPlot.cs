using System.Globalization;
using ScottPlot;

namespace Mrl.Cli.Bench;

/// <summary>
/// recall-vs-qps.png: one colour per strategy (and backend), a marker per configuration, a line along each strategy's
/// best trade-offs (the configurations no other of the same strategy beats on both recall and QPS), and the target recall.
/// QPS is on a log scale when it spans more than a factor of ten.
/// </summary>
internal static class RecallQpsPlot
{
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
            var markers = plot.Add.ScatterPoints(all.Select(r => r.Recall).ToArray(), all.Select(r => Y(r.Qps, log)).ToArray(), color);
            markers.MarkerShape = Shapes[Array.IndexOf(backends, backend) % Shapes.Length];
            markers.MarkerSize = 7;
            markers.LegendText = label;

            var frontier = Frontier(all);
            if (frontier.Length > 1)
            {
                var line = plot.Add.ScatterLine(frontier.Select(r => r.Recall).ToArray(), frontier.Select(r => Y(r.Qps, log)).ToArray(), color);
                line.LineWidth = 2;
            }
        }

        var target = plot.Add.VerticalLine(targetRecall, 1.5f, Colors.Gray, LinePattern.Dashed);
        target.LegendText = string.Create(CultureInfo.InvariantCulture, $"target recall {targetRecall}");

        if (log)
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                IntegerTicksOnly = true,
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                LabelFormatter = y => Math.Pow(10, y).ToString("#,0.#", CultureInfo.InvariantCulture),
            };
            plot.Grid.YAxisStyle.MinorLineStyle.Width = 1;
            plot.Grid.YAxisStyle.MinorLineStyle.Color = Colors.Black.WithOpacity(0.06);
        }

        plot.Font.Set(Fonts.Sans, FontWeight.Normal, FontSlant.Upright, FontSpacing.Normal);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        var minRecall = points.Min(r => r.Recall);
        plot.Axes.SetLimitsX(Math.Max(0, Math.Floor(minRecall * 20) / 20 - 0.01), 1.005);
        plot.Title(title, 16);
        plot.XLabel(string.Create(CultureInfo.InvariantCulture, $"recall@{points[0].K} against exact full-dimension kNN"), 14);
        plot.YLabel(log ? "queries per second, 1 client (log scale)" : "queries per second, 1 client", 14);
        plot.Legend.FontSize = 13;
        plot.ShowLegend(Alignment.LowerLeft);
        plot.SavePng(path, 1400, 900);
    }

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
