using Mrl.Adapters;

namespace Mrl.Bench;

/// <summary>
/// Fits a projection on an evenly strided sample of a data set's base vectors, as the tools do on a table; centred as the
/// metric decides unless told.
/// </summary>
internal static class ProjectionSample
{
    public static PrefixProjection Fit(BenchDataset data, int prefixDimensions, bool? centred, CancellationToken cancellationToken)
    {
        var d = data.Dimensions;
        var rows = Math.Min(data.Count, ProjectionFitter.DefaultSampleSize);
        var sample = new float[rows * d];
        for (var i = 0; i < rows; i++)
        {
            data.Base.Row((int)((long)i * data.Count / rows)).Span.CopyTo(sample.AsSpan(i * d, d));
        }

        return ProjectionFitter.Fit(sample, d, prefixDimensions, data.Metric, centred ?? ProjectionFitter.CentresFor(data.Metric), cancellationToken: cancellationToken);
    }
}
