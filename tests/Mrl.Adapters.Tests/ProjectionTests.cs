using System.Numerics.Tensors;
using Mrl.Adapters.InMemory;
using Mrl.Bench.Synthetic;

namespace Mrl.Adapters.Tests;

public sealed class ProjectionTests
{
    [Theory]
    [InlineData(DistanceMetric.Cosine)]
    [InlineData(DistanceMetric.Euclidean)]
    public void A_fitted_projection_has_orthonormal_rows(DistanceMetric metric)
    {
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = 96 }).Generate(500);

        var projection = ProjectionFitter.Fit(data, 96, 16, metric);

        Assert.Equal((16, 96), (projection.Rows, projection.Columns));
        for (var i = 0; i < 16; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                Assert.Equal(i == j ? 1f : 0f, TensorPrimitives.Dot(projection.Row(i), projection.Row(j)), 1e-4f);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fit_recovers_a_planted_subspace(bool centred)
    {
        const int d = 64;
        const int p = 4;
        var random = new Random(7);
        var planted = RandomOrthonormal(random, p, d);
        var data = new float[2_000 * d];
        for (var row = 0; row < 2_000; row++)
        {
            var x = data.AsSpan(row * d, d);
            for (var i = 0; i < d; i++)
            {
                x[i] = 0.05f * Gaussian(random);
            }

            for (var k = 0; k < p; k++)
            {
                TensorPrimitives.MultiplyAdd(planted.AsSpan(k * d, d), (3f + k) * Gaussian(random), x, x);
            }
        }

        var projection = ProjectionFitter.Fit(data, d, p, centred, unitRows: false, version: 1, seed: 3, iterations: 4, CancellationToken.None);

        // Each planted direction lies (almost) wholly inside the fitted subspace.
        var key = new float[p];
        for (var k = 0; k < p; k++)
        {
            projection.Project(planted.AsSpan(k * d, d), key);
            Assert.True(TensorPrimitives.Norm(key) > 0.999f, $"planted direction {k} keeps {TensorPrimitives.Norm(key)} of its length");
        }
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine)]
    [InlineData(DistanceMetric.DotProduct)]
    [InlineData(DistanceMetric.Euclidean)]
    public void A_fit_keeps_more_of_its_own_data_than_a_fit_of_other_data_and_a_full_rank_key_keeps_all(DistanceMetric metric)
    {
        const int d = 64;
        var original = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = d, Rotated = true, Seed = 3 }).Generate(1_200);
        var drifted = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = d, Rotated = true, Seed = 9 }).Generate(1_200);
        var fitRows = drifted.AsMemory(0, 1_000 * d);
        var heldOut = drifted.AsMemory(1_000 * d);

        var stale = ProjectionFitter.Fit(original, d, 12, metric);
        var refit = ProjectionFitter.Fit(fitRows, d, 12, metric, version: 2);
        var keptByStale = ProjectionFitter.KeptVariance(heldOut, stale, metric);
        var keptByRefit = ProjectionFitter.KeptVariance(heldOut, refit, metric);

        Assert.InRange(keptByStale, 0.0, 1.0);
        Assert.True(keptByRefit > keptByStale + 0.1, $"the refit keeps {keptByRefit:F3}, the stale key {keptByStale:F3}");
        Assert.Equal(1.0, ProjectionFitter.KeptVariance(heldOut, ProjectionFitter.Fit(fitRows, d, d, metric), metric), 3);
        Assert.Throws<ArgumentException>(() => ProjectionFitter.KeptVariance(drifted.AsMemory(0, d + 1), refit, metric));
    }

    [Fact]
    public void Centring_can_be_chosen_against_the_metric_and_changes_the_fit_when_the_data_has_a_mean()
    {
        const int d = 32;
        var random = new Random(5);
        var data = new float[1_000 * d];
        for (var i = 0; i < data.Length; i++)
        {
            // A shared offset on the first value: the uncentred fit's top direction, left out by a centred one.
            data[i] = Gaussian(random) + (i % d == 0 ? 4f : 0f);
        }

        var byMetric = ProjectionFitter.Fit(data, d, 4, DistanceMetric.Euclidean, seed: 2);
        var chosen = ProjectionFitter.Fit(data, d, 4, DistanceMetric.Euclidean, centred: true, seed: 2);
        Assert.Equal(byMetric.Matrix.ToArray(), chosen.Matrix.ToArray());

        var uncentred = ProjectionFitter.Fit(data, d, 4, DistanceMetric.Euclidean, centred: false, seed: 2);
        Assert.True(Math.Abs(uncentred.Matrix[0]) > 0.99f, $"the uncentred fit's first direction is the offset: {uncentred.Matrix[0]}");
        Assert.True(Math.Abs(chosen.Matrix[0]) < 0.5f, $"the centred fit's first direction is not: {chosen.Matrix[0]}");
    }

    [Fact]
    public void A_matrix_whose_rows_are_not_orthonormal_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new PrefixProjection(2, 3, [1, 0, 0, 1, 1, 0]));
        Assert.Contains("not orthonormal", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_projected_key_is_the_normalized_product_for_cosine_and_the_raw_product_for_euclidean()
    {
        var projection = new PrefixProjection(2, 3, [0, 1, 0, 0, 0, 1]);
        float[] x = [5, 3, 4];

        Assert.Equal([0.6f, 0.8f], new EmbeddingLayout(projection).ToPrefix(x));
        Assert.Equal([3f, 4f], new EmbeddingLayout(projection, DistanceMetric.Euclidean).ToPrefix(x));
        Assert.Equal(PrefixKind.Projection, new EmbeddingLayout(projection).PrefixKind);
        Assert.Throws<ArgumentException>(() => new EmbeddingLayout(projection).ToPrefix([1, 0, 0]));
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine)]
    [InlineData(DistanceMetric.DotProduct)]
    [InlineData(DistanceMetric.Euclidean)]
    public async Task Two_pass_search_on_a_projected_key_is_exact_when_every_record_is_a_candidate(DistanceMetric metric)
    {
        const int d = 48;
        var data = Rotate(new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = d, Seed = 5 }).Generate(200), d);
        var layout = new EmbeddingLayout(ProjectionFitter.Fit(data, d, 8, metric), metric);
        using var store = new InMemoryAdaptiveStore<long>(layout);
        await store.UpsertAsync(Enumerable.Range(0, 200).Select(i => new VectorRecord<long>(i, data.AsMemory(i * d, d))).ToArray());

        for (var q = 0; q < 5; q++)
        {
            var query = data.AsMemory(q * 17 * d, d);
            var result = await store.SearchAsync(query, new SearchOptions { K = 10, Oversampling = 20 });
            var exact = await store.SearchAsync(query, new SearchOptions { K = 10, Strategy = SearchStrategy.FullDimension });
            Assert.Equal(exact.Hits.Select(h => h.Key), result.Hits.Select(h => h.Key));
        }
    }

    [Fact]
    public async Task A_snapshot_keeps_the_projection()
    {
        const int d = 24;
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = d }).Generate(100);
        var layout = new EmbeddingLayout(ProjectionFitter.Fit(data, d, 6, DistanceMetric.Cosine, version: 3), DistanceMetric.Cosine);
        using var store = new InMemoryAdaptiveStore<long>(layout);
        await store.UpsertAsync(Enumerable.Range(0, 100).Select(i => new VectorRecord<long>(i, data.AsMemory(i * d, d))).ToArray());

        using var buffer = new MemoryStream();
        await InMemorySnapshot.SaveAsync(store, buffer);
        buffer.Position = 0;
        using var loaded = await InMemorySnapshot.LoadAsync<long>(buffer);

        Assert.Equal(layout, loaded.Layout);
        Assert.Equal(3, loaded.Layout.Projection!.Version);
        var query = data.AsMemory(7 * d, d);
        var before = await store.SearchAsync(query, new SearchOptions { K = 5, Oversampling = 2 });
        var after = await loaded.SearchAsync(query, new SearchOptions { K = 5, Oversampling = 2 });
        Assert.Equal(before.Hits.Select(h => (h.Key, h.Score)), after.Hits.Select(h => (h.Key, h.Score)));
    }

    private static float[] Rotate(float[] data, int d)
    {
        var rotation = RandomOrthonormal(new Random(11), d, d);
        var rotated = new float[data.Length];
        for (var row = 0; row < data.Length / d; row++)
        {
            new PrefixProjection(d, d, rotation).Project(data.AsSpan(row * d, d), rotated.AsSpan(row * d, d));
        }

        return rotated;
    }

    private static float[] RandomOrthonormal(Random random, int rows, int d)
    {
        var m = new float[rows * d];
        for (var k = 0; k < rows; k++)
        {
            var row = m.AsSpan(k * d, d);
            for (var i = 0; i < d; i++)
            {
                row[i] = Gaussian(random);
            }

            for (var j = 0; j < k; j++)
            {
                TensorPrimitives.MultiplyAdd(m.AsSpan(j * d, d), -TensorPrimitives.Dot(row, m.AsSpan(j * d, d)), row, row);
            }

            TensorPrimitives.Divide(row, TensorPrimitives.Norm(row), row);
        }

        return m;
    }

    private static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2.0 * Math.PI * random.NextDouble()));
}
