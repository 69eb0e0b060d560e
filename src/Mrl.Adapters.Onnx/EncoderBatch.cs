using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace Mrl.Adapters.Onnx;

/// <summary>
/// One batch of tokenized texts as the model's input tensors, padded on the right to the longest text. The tensors
/// wrap pooled arrays, pinned until <see cref="Dispose"/> returns them.
/// </summary>
internal sealed class EncoderBatch : IDisposable
{
    private readonly long[] _inputIds;
    private readonly long[] _attentionMask;
    private readonly long[]? _tokenTypeIds;
    private readonly int[] _lengths;
    private bool _disposed;

    private EncoderBatch(TextTokenizer tokenizer, ReadOnlySpan<IReadOnlyList<int>> contents, ReadOnlySpan<int> counts, bool withTokenTypeIds)
    {
        Count = contents.Length;
        _lengths = ArrayPool<int>.Shared.Rent(Count);
        var longest = 0;
        for (var row = 0; row < Count; row++)
        {
            _lengths[row] = counts[row] + 2;
            longest = Math.Max(longest, _lengths[row]);
            TokenCount += _lengths[row];
        }

        SequenceLength = longest;
        var size = Count * SequenceLength;
        _inputIds = ArrayPool<long>.Shared.Rent(size);
        _attentionMask = ArrayPool<long>.Shared.Rent(size);
        for (var row = 0; row < Count; row++)
        {
            var ids = _inputIds.AsSpan(row * SequenceLength, SequenceLength);
            var length = _lengths[row];
            ids[0] = tokenizer.ClassificationTokenId;
            WriteIds(contents[row], counts[row], ids.Slice(1, counts[row]));
            ids[length - 1] = tokenizer.SeparatorTokenId;
            ids[length..].Fill(tokenizer.PaddingTokenId);

            var mask = _attentionMask.AsSpan(row * SequenceLength, SequenceLength);
            mask[..length].Fill(1);
            mask[length..].Clear();
        }

        long[] shape = [Count, SequenceLength];
        var inputs = new List<OrtValue>(3);
        try
        {
            inputs.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _inputIds.AsMemory(0, size), shape));
            inputs.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _attentionMask.AsMemory(0, size), shape));
            if (withTokenTypeIds)
            {
                _tokenTypeIds = ArrayPool<long>.Shared.Rent(size);
                _tokenTypeIds.AsSpan(0, size).Clear();
                inputs.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _tokenTypeIds.AsMemory(0, size), shape));
            }
        }
        catch
        {
            foreach (var input in inputs)
            {
                input.Dispose();
            }

            ReturnArrays();
            throw;
        }

        Inputs = inputs;
    }

    /// <summary>The number of texts.</summary>
    public int Count { get; }

    /// <summary>The padded length of every row.</summary>
    public int SequenceLength { get; }

    /// <summary>The tokens fed to the model, special tokens included and padding not.</summary>
    public int TokenCount { get; }

    /// <summary>Each text's token count, special tokens included: its attention mask covers that many leading positions.</summary>
    public ReadOnlySpan<int> Lengths => _lengths.AsSpan(0, Count);

    /// <summary>input_ids, attention_mask and, when the model takes it, token_type_ids, in the order of <see cref="ModelSignature.InputNames"/>.</summary>
    public IReadOnlyList<OrtValue> Inputs { get; }

    /// <summary>The input ids of one row, padding included.</summary>
    public ReadOnlySpan<long> InputIds(int row) => _inputIds.AsSpan(row * SequenceLength, SequenceLength);

    /// <summary>Tokenizes <paramref name="count"/> texts from <paramref name="start"/>, each with the prefix in front, truncated to <paramref name="maxSequenceLength"/> tokens.</summary>
    public static EncoderBatch Create(TextTokenizer tokenizer, IReadOnlyList<string> texts, int start, int count, string? prefix, int maxSequenceLength, bool withTokenTypeIds)
    {
        var contents = ArrayPool<IReadOnlyList<int>>.Shared.Rent(count);
        var counts = ArrayPool<int>.Shared.Rent(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                contents[i] = tokenizer.EncodeContent(prefix, texts[start + i], maxSequenceLength - 2, out counts[i]);
            }

            return new EncoderBatch(tokenizer, contents.AsSpan(0, count), counts.AsSpan(0, count), withTokenTypeIds);
        }
        finally
        {
            ArrayPool<IReadOnlyList<int>>.Shared.Return(contents, clearArray: true);
            ArrayPool<int>.Shared.Return(counts);
        }
    }

    /// <summary>A batch of one text with no content, <c>[CLS] [SEP]</c>: enough to ask the model for its output shape.</summary>
    public static EncoderBatch Empty(TextTokenizer tokenizer, bool withTokenTypeIds) =>
        new(tokenizer, new IReadOnlyList<int>[] { Array.Empty<int>() }, [0], withTokenTypeIds);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var input in Inputs)
        {
            input.Dispose();
        }

        ReturnArrays();
    }

    private void ReturnArrays()
    {
        ArrayPool<long>.Shared.Return(_inputIds);
        ArrayPool<long>.Shared.Return(_attentionMask);
        if (_tokenTypeIds is not null)
        {
            ArrayPool<long>.Shared.Return(_tokenTypeIds);
        }

        ArrayPool<int>.Shared.Return(_lengths);
    }

    private static void WriteIds(IReadOnlyList<int> source, int count, Span<long> destination)
    {
        if (source is List<int> list)
        {
            TensorPrimitives.ConvertChecked<int, long>(CollectionsMarshal.AsSpan(list)[..count], destination);
            return;
        }

        for (var i = 0; i < count; i++)
        {
            destination[i] = source[i];
        }
    }
}
