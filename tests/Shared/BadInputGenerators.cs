using CsCheck;

namespace Mrl.Adapters.Tests.Shared;

/// <summary>
/// CsCheck generators of the input the bad-input properties feed every store, and the oracles they judge the answers with
/// (shared by the test projects as a linked file).
/// </summary>
internal static class BadInputGenerators
{
    /// <summary>Ordinary vectors, and every kind of trouble: wrong lengths, NaN, ±Infinity, float.MaxValue, subnormals, huge values, zeros,
    /// and a vector whose prefix alone is zero.</summary>
    public static Gen<float[]> Vectors(int dimensions, int prefixDimensions) => Gen.Frequency(
        (6, Gen.Single[-1f, 1f].Array[dimensions]),
        (2, Gen.Single.Special.Array[dimensions]),
        (1, Gen.Int[0, 2 * dimensions + 1].Where(n => n != dimensions).Select(n => Enumerable.Repeat(0.5f, n).ToArray())),
        (1, Gen.Const(() => new float[dimensions])),
        (1, Gen.Const(() => Enumerable.Range(0, dimensions).Select(i => i < prefixDimensions ? 0f : 1f).ToArray())),
        (2, Gen.OneOf(Gen.Const(float.Epsilon), Gen.Const(1e-40f), Gen.Const(1e-20f), Gen.Const(3e-8f), Gen.Const(-3e38f), Gen.Const(3e38f), Gen.Const(7e4f), Gen.Const(1e30f), Gen.Single[-1f, 1f]).Array[dimensions]),
        (2, Gen.Select(Gen.Single[-1f, 1f].Array[dimensions], Gen.Int[0, dimensions - 1], Gen.OneOf(Gen.Const(float.NaN), Gen.Const(float.PositiveInfinity), Gen.Const(float.NegativeInfinity)),
            (v, i, bad) =>
            {
                v[i] = bad;
                return v;
            })));

    /// <summary>Whether the layout accepts the vector: the oracle the properties compare each store's answer with.</summary>
    public static bool ValidFor(EmbeddingLayout layout, float[] vector)
    {
        try
        {
            layout.Validate(vector, "probe");
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Runs a write and says whether the store took it (true) or refused it with an <see cref="ArgumentException"/> (false).</summary>
    public static async Task<bool> AcceptsAsync(Func<Task> write)
    {
        try
        {
            await write();
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
