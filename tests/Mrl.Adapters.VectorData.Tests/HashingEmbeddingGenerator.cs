using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;

namespace Mrl.Adapters.VectorData.Tests;

/// <summary>
/// A deterministic text embedder for tests: equal texts get equal unit vectors, truncated to the requested dimensions.
/// Counts its calls and remembers the dimensions it was asked for.
/// </summary>
internal sealed class HashingEmbeddingGenerator(int maxDimensions) : IEmbeddingGenerator<string, Embedding<float>>
{
    public int Calls { get; private set; }

    public int Inputs { get; private set; }

    public int? LastDimensions { get; private set; }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        Calls++;
        LastDimensions = options?.Dimensions;
        var dimensions = options?.Dimensions ?? maxDimensions;
        var embeddings = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var value in values)
        {
            Inputs++;
            embeddings.Add(new Embedding<float>(Embed(value, dimensions)));
        }

        return Task.FromResult(embeddings);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    private static float[] Embed(string text, int dimensions)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(text + "#1").Concat(Encoding.UTF8.GetBytes(text + "#2")).ToArray());
        var seed = BitConverter.ToInt32(bytes, 0);
        var random = new Random(seed);
        var vector = new float[dimensions];
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (float)(random.NextDouble() * 2 - 1) / (1 + i / 8f);
        }

        var norm = MathF.Sqrt(vector.Sum(v => v * v));
        return vector.Select(v => v / norm).ToArray();
    }
}
