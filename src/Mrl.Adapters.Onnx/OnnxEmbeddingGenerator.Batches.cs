using System.Buffers;
using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;

namespace Mrl.Adapters.Onnx;

// One batch's way through the model: tokenize, build the input tensors, run, pool and truncate into embeddings.
public sealed partial class OnnxEmbeddingGenerator
{
    internal ModelSignature Signature => _signature;

    internal TextTokenizer Tokenizer => _tokenizer;

    /// <summary>When set, times every call and the model runs within it; for benchmarks.</summary>
    internal GenerationTimer? Timer { get; set; }

    /// <summary>The task prefix for a request: the query or the document prompt, or null.</summary>
    internal string? ResolvePrefix(EmbeddingGenerationOptions? options) => Prompt(ResolveInputType(options));

    /// <summary>The input type a request names, else the default.</summary>
    internal EmbeddingInputType ResolveInputType(EmbeddingGenerationOptions? options) => options.GetInputType() ?? _options.DefaultInputType;

    /// <summary>Tokenizes one text's content, truncated to fit the length limit beside the special tokens.</summary>
    internal TokenizedText TokenizeText(string text, string? prefix)
    {
        var ids = _tokenizer.EncodeContent(prefix, text, _maxSequenceLength - _tokenizer.SpecialTokenCount, out var count, out var truncated);
        return new TokenizedText(ids, count, truncated);
    }

    /// <summary>Turns tokenized texts into one batch of the model's input tensors.</summary>
    internal EncoderBatch CreateBatch(ReadOnlySpan<TokenizedText> texts) =>
        EncoderBatch.Create(_tokenizer, texts, _paddingSide, _signature.TokenTypeIdsName is not null, _signature.PositionIdsName is not null);

    /// <summary>Tokenizes <paramref name="count"/> texts from <paramref name="start"/> into one batch, in order.</summary>
    internal EncoderBatch Tokenize(IReadOnlyList<string> texts, int start, int count, string? prefix)
    {
        var tokenized = new TokenizedText[count];
        for (var i = 0; i < count; i++)
        {
            tokenized[i] = TokenizeText(texts[start + i], prefix);
        }

        return CreateBatch(tokenized);
    }

    /// <summary>Runs the model on a batch and returns its one requested output; a model with task adapters gets the adapter of <paramref name="inputType"/>.</summary>
    internal IDisposableReadOnlyCollection<OrtValue> Run(EncoderBatch batch, RunOptions runOptions, EmbeddingInputType inputType = EmbeddingInputType.Document)
    {
        try
        {
            return _session.Run(runOptions, _inputNames, Inputs(batch, inputType), _outputNames);
        }
        catch (OnnxRuntimeException exception) when (!runOptions.Terminate)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"ONNX Runtime failed on a batch of {batch.Count} texts of up to {batch.SequenceLength} tokens: {exception.Message} " +
                $"If the model has fewer positions than {nameof(OnnxEmbeddingGeneratorOptions.MaxSequenceLength)} ({_maxSequenceLength}), lower it."),
                exception);
        }
    }

    /// <summary>Pools, optionally layer-norms, truncates and normalizes each row of the model's output into an embedding.</summary>
    internal void Pool(EncoderBatch batch, OrtValue output, int dimensions, ReadOnlySpan<int> textIndexes, Embedding<float>[] into, DateTimeOffset createdAt)
    {
        var hidden = _signature.HiddenSize;
        CheckOutputShape(output.GetTensorTypeAndShape().Shape, batch);
        var data = output.GetTensorDataAsSpan<float>();
        var buffer = ArrayPool<float>.Shared.Rent(hidden);
        try
        {
            var scratch = buffer.AsSpan(0, hidden);
            var rowStride = _signature.OutputIsPooled ? hidden : batch.SequenceLength * hidden;
            for (var row = 0; row < batch.Count; row++)
            {
                var states = data.Slice(row * rowStride, rowStride);
                var first = _signature.OutputIsPooled ? 0 : batch.Start(row) * hidden;
                var tokens = batch.Lengths[row];
                ReadOnlySpan<float> pooled;
                switch (_pooling)
                {
                    case OnnxPooling.Mean:
                        EmbeddingPooling.Mean(states[first..], tokens, scratch);
                        pooled = scratch;
                        break;
                    case OnnxPooling.LastToken:
                        pooled = states.Slice(first + (tokens - 1) * hidden, hidden);
                        break;
                    default:
                        // Cls reads the first real token's state, ModelOutput the whole (already pooled) row.
                        pooled = states.Slice(first, hidden);
                        break;
                }

                if (_layerNorm)
                {
                    if (!pooled.Overlaps(scratch))
                    {
                        pooled.CopyTo(scratch);
                    }

                    EmbeddingPooling.LayerNorm(scratch);
                    pooled = scratch;
                }

                var vector = new float[dimensions];
                if (!VectorMath.TryNormalize(pooled[..dimensions], vector))
                {
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                        $"The model's embedding of values[{textIndexes[row]}] is zero or not finite in its first {dimensions} dimensions, so it cannot be normalized."));
                }

                into[textIndexes[row]] = new Embedding<float>(vector) { ModelId = ModelId, CreatedAt = createdAt };
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }
}
