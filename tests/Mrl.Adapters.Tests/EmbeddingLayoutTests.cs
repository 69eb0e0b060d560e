using System.Numerics.Tensors;
using CsCheck;

namespace Mrl.Adapters.Tests;

public sealed class EmbeddingLayoutTests
{
    [Theory]
    [InlineData(768, 0)]
    [InlineData(768, 1000)]
    [InlineData(0, 1)]
    [InlineData(20_000, 128)]
    public void Layout_rejects_a_prefix_that_is_not_a_prefix(int full, int prefix)
    {
        var error = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => new EmbeddingLayout(full, prefix));
        Assert.Contains("dimensions", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(768, 768)]
    [InlineData(3, 3)]
    [InlineData(1, 1)]
    public void A_prefix_as_long_as_the_vector_makes_a_single_pass_layout(int full, int prefix)
    {
        var layout = new EmbeddingLayout(full, prefix);

        Assert.True(layout.IsSinglePass);
        Assert.False(new EmbeddingLayout(768, 128).IsSinglePass);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 3)]
    [InlineData(127, 127)]
    [InlineData(128, 32)]
    [InlineData(384, 64)]
    [InlineData(768, 128)]
    [InlineData(1536, 256)]
    [InlineData(3072, 256)]
    public void Default_prefix_is_the_whole_vector_below_128_dimensions_and_a_power_of_two_above(int full, int expected) =>
        Assert.Equal(expected, EmbeddingLayout.DefaultPrefixDimensions(full));

    [Fact]
    public void A_short_vector_whose_first_value_is_zero_is_valid_in_a_single_pass_layout()
    {
        var layout = new EmbeddingLayout(3, EmbeddingLayout.DefaultPrefixDimensions(3));

        layout.Validate([0f, 1f, 2f], "record 1");
        var prefix = layout.ToPrefix([0f, 1f, 2f]);

        Assert.Equal(0f, prefix[0]);
        Assert.Equal(1f, TensorPrimitives.Norm(prefix), 5);
    }

    [Fact]
    public void Prefix_is_renormalized_for_cosine_and_kept_for_euclidean()
    {
        float[] full = [3, 4, 12, 0];
        var cosine = new EmbeddingLayout(4, 2, DistanceMetric.Cosine).ToPrefix(full);
        var euclidean = new EmbeddingLayout(4, 2, DistanceMetric.Euclidean).ToPrefix(full);
        Assert.Equal([0.6f, 0.8f], cosine);
        Assert.Equal([3f, 4f], euclidean);
    }

    [Fact]
    public void Scores_are_higher_for_closer_vectors_under_every_metric()
    {
        float[] a = [1, 0, 0];
        float[] near = [0.9f, 0.1f, 0];
        float[] far = [0, 1, 0];
        foreach (var metric in Enum.GetValues<DistanceMetric>())
        {
            var layout = new EmbeddingLayout(3, 1, metric);
            Assert.True(layout.Score(a, near) > layout.Score(a, far), metric.ToString());
        }

        Assert.Equal(-1f, new EmbeddingLayout(3, 1, DistanceMetric.Euclidean).Score([0, 0, 0], [0, 1, 0]), 5);
    }

    [Fact]
    public void Renormalized_prefix_has_unit_length_for_any_finite_vector_with_a_nonzero_prefix()
    {
        var layout = new EmbeddingLayout(16, 5);
        Gen.Single[-1e6f, 1e6f].Array[16]
            .Where(v => v.Take(5).Any(x => Math.Abs(x) > 1e-3f))
            .Sample(v =>
            {
                var prefix = layout.ToPrefix(v);
                var norm = Math.Sqrt(prefix.Sum(x => (double)x * x));
                return Math.Abs(norm - 1) < 1e-4;
            });
    }

    [Fact]
    public void Validation_accepts_every_finite_vector_with_a_nonzero_prefix_and_rejects_any_nan()
    {
        var layout = new EmbeddingLayout(12, 4);
        Gen.Single[-1e3f, 1e3f].Array[12]
            .Where(v => v.Take(4).Any(x => Math.Abs(x) > 1e-3f))
            .Select(Gen.Int[0, 11])
            .Sample((v, i) =>
            {
                layout.Validate(v, "record x");
                var spoiled = (float[])v.Clone();
                spoiled[i] = float.NaN;
                var error = Assert.Throws<ArgumentException>(() => layout.Validate(spoiled, "record x"));
                return error.Message.Contains("record x", StringComparison.Ordinal) && error.Message.Contains($"value {i} is NaN", StringComparison.Ordinal);
            });
    }

    [Fact]
    public void Validation_names_subnormal_prefixes_that_cannot_be_normalized()
    {
        var layout = new EmbeddingLayout(4, 2);
        var error = Assert.Throws<ArgumentException>(() => layout.Validate([1e-40f, 1e-40f, 1f, 1f], "record 9"));
        Assert.Contains("record 9", error.Message, StringComparison.Ordinal);
        Assert.Contains("too small", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Euclidean_layout_accepts_a_zero_vector()
    {
        new EmbeddingLayout(4, 2, DistanceMetric.Euclidean).Validate(new float[4], "record 1");
    }

    [Fact]
    public void Manhattan_layout_keeps_the_prefix_as_is_and_accepts_a_zero_prefix()
    {
        var layout = new EmbeddingLayout(4, 2, DistanceMetric.Manhattan);

        layout.Validate([0, 0, 1, 2], "record 1");

        Assert.False(layout.NormalizesPrefix);
        Assert.Equal([3f, 4f], layout.ToPrefix([3, 4, 12, 0]));
        Assert.Equal(-7f, layout.Score([0, 0, 0, 0], [3, -4, 0, 0]), 5);
    }

    [Fact]
    public void Manhattan_distance_is_the_sum_of_absolute_differences_at_any_length()
    {
        // Lengths around the chunk the distance works in (256) and far beyond it.
        Gen.Int[1, 1100].SelectMany(n => Gen.Single[-100f, 100f].Array[n].Select(Gen.Single[-100f, 100f].Array[n]))
            .Sample((a, b) =>
            {
                var expected = a.Zip(b, (x, y) => Math.Abs((double)x - y)).Sum();
                var actual = VectorMath.ManhattanDistance(a, b);
                return Math.Abs(actual - expected) <= 1e-4 * Math.Max(1, expected)
                       && VectorMath.Score(DistanceMetric.Manhattan, a, b) == -actual;
            }, iter: 200);
    }

    [Fact]
    public void Manhattan_distance_of_vectors_of_different_lengths_is_refused()
    {
        Assert.Throws<ArgumentException>(() => VectorMath.ManhattanDistance([1f, 2f], [1f]));
    }
}
