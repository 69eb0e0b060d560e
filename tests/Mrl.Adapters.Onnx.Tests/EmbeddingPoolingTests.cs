using System.Globalization;
using System.Text;
using CsCheck;
using Mrl.Adapters.Testing;

namespace Mrl.Adapters.Onnx.Tests;

public sealed class EmbeddingPoolingTests
{
    private static readonly Gen<(int Tokens, int Hidden, float[] States)> TokenStates =
        Gen.Int[1, 12].SelectMany(tokens => Gen.Int[1, 40].SelectMany(hidden =>
            Gen.Float[-50f, 50f].Array[tokens * hidden].Select(states => (tokens, hidden, states))));

    // Any characters, with the ones the cleaner treats specially mixed in often.
    private static readonly Gen<string> Texts = Gen.OneOf(
            Gen.Char,
            Gen.Char['a', 'z'],
            Gen.OneOf<char>('\t', '\n', '\r', ' ', '\u00AD', '\u200B', '\uFEFF', '\uE000', '\uD800', '\uDC00', 'é', '\u3000'))
        .Array[0, 40]
        .Select(chars => new string(chars));

    [Fact]
    public void Mean_is_the_average_of_the_leading_token_rows()
    {
        TokenStates.Sample(sample =>
        {
            // Rows past the token count are padding and must not count.
            var padded = sample.States.Concat(Enumerable.Repeat(1e6f, sample.Hidden)).ToArray();
            var mean = new float[sample.Hidden];

            EmbeddingPooling.Mean(padded, sample.Tokens, mean);

            for (var j = 0; j < sample.Hidden; j++)
            {
                var expected = Enumerable.Range(0, sample.Tokens).Average(t => (double)sample.States[t * sample.Hidden + j]);
                Assert.True(Math.Abs(expected - mean[j]) < 1e-3,
                    string.Create(CultureInfo.InvariantCulture, $"value {j}: {mean[j]} vs {expected}"));
            }
        });
    }

    [Fact]
    public void Layer_norm_matches_the_double_precision_formula()
    {
        Gen.Float[-50f, 50f].Array[2, 80].Sample(vector =>
        {
            var expected = LayerNormInDouble(vector);
            var actual = (float[])vector.Clone();
            // Single-precision rounding of the mean, amplified when the variance is tiny.
            var tolerance = 1e-3 + 1e-5 * vector.Max(Math.Abs) / Math.Sqrt(Variance(vector) + EmbeddingPooling.LayerNormEpsilon);

            EmbeddingPooling.LayerNorm(actual);

            for (var i = 0; i < vector.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - actual[i]) < tolerance,
                    string.Create(CultureInfo.InvariantCulture, $"value {i}: {actual[i]} vs {expected[i]}"));
            }
        });
    }

    [Fact]
    public void Cleaning_leaves_no_line_breaks_tabs_or_format_characters_and_keeps_everything_else()
    {
        Texts.Sample(text =>
        {
            var destination = new char[text.Length];
            var cleaned = new string(destination, 0, BertTextCleaner.Clean(text, destination));

            Assert.DoesNotContain(cleaned, c => c is '\t' or '\n' or '\r');
            Assert.DoesNotContain(cleaned.EnumerateRunes(), r => Rune.GetUnicodeCategory(r) == UnicodeCategory.Format);
            var kept = text.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
            if (kept.EnumerateRunes().All(r => Rune.GetUnicodeCategory(r) is not (UnicodeCategory.Format or UnicodeCategory.PrivateUse
                or UnicodeCategory.OtherNotAssigned or UnicodeCategory.Surrogate)) && !HostileText.HasLoneSurrogate(kept))
            {
                Assert.Equal(kept, cleaned);
            }
        });
    }


    private static double[] LayerNormInDouble(float[] vector)
    {
        var mean = vector.Average(v => (double)v);
        var scale = 1 / Math.Sqrt(Variance(vector) + EmbeddingPooling.LayerNormEpsilon);
        return vector.Select(v => (v - mean) * scale).ToArray();
    }

    private static double Variance(float[] vector)
    {
        var mean = vector.Average(v => (double)v);
        return vector.Average(v => (v - mean) * (v - mean));
    }
}
