using System.Numerics.Tensors;

namespace Mrl.Adapters.Onnx;

/// <summary>The vector arithmetic between the model's output and the embedding, on spans.</summary>
internal static class EmbeddingPooling
{
    /// <summary>torch.nn.functional.layer_norm's default, which nomic-embed-text-v1.5 uses after pooling.</summary>
    public const float LayerNormEpsilon = 1e-5f;

    /// <summary>Averages the first <paramref name="tokens"/> rows of <paramref name="states"/> (row length = destination length) into <paramref name="destination"/>.</summary>
    /// <remarks>The caller slices <paramref name="states"/> to start at the first position the attention mask covers.</remarks>
    public static void Mean(ReadOnlySpan<float> states, int tokens, Span<float> destination)
    {
        var hidden = destination.Length;
        states[..hidden].CopyTo(destination);
        for (var token = 1; token < tokens; token++)
        {
            TensorPrimitives.Add(destination, states.Slice(token * hidden, hidden), destination);
        }

        TensorPrimitives.Divide(destination, tokens, destination);
    }

    /// <summary>Layer norm over the whole vector without learned scale or bias: zero mean, unit variance.</summary>
    public static void LayerNorm(Span<float> vector)
    {
        var mean = TensorPrimitives.Sum<float>(vector) / vector.Length;
        TensorPrimitives.Subtract(vector, mean, vector);
        var variance = TensorPrimitives.SumOfSquares<float>(vector) / vector.Length;
        TensorPrimitives.Multiply(vector, 1f / MathF.Sqrt(variance + LayerNormEpsilon), vector);
    }
}
