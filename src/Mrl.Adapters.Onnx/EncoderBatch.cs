using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace Mrl.Adapters.Onnx;

/// <summary>
/// One batch of tokenized texts as the model's input tensors, each text between its special tokens and padded to the
/// longest on the right or on the left. The tensors wrap pooled arrays, pinned until <see cref="Dispose"/> returns them.
/// </summary>
internal sealed class EncoderBatch : IDisposable
{
    private readonly long[] _inputIds;
    private readonly long[] _attentionMask;
    private readonly long[]? _tokenTypeIds;
    private readonly long[]? _positionIds;
    private readonly int[] _lengths;
    private readonly PaddingSide _side;
    private bool _disposed;

    private EncoderBatch(TextTokenizer tokenizer, ReadOnlySpan<TokenizedText> texts, PaddingSide side, bool withTokenTypeIds, bool withPositionIds)
    {
        Count = texts.Length;
        _side = side;
        _lengths = ArrayPool<int>.Shared.Rent(Count);
        var longest = 0;
        for (var row = 0; row < Count; row++)
        {
            _lengths[row] = texts[row].Count + tokenizer.SpecialTokenCount;
            longest = Math.Max(longest, _lengths[row]);
            TokenCount += _lengths[row];
        }

        SequenceLength = longest;
        var size = Count * SequenceLength;
        _inputIds = ArrayPool<long>.Shared.Rent(size);
        _attentionMask = ArrayPool<long>.Shared.Rent(size);
        _positionIds = withPositionIds ? ArrayPool<long>.Shared.Rent(size) : null;
        for (var row = 0; row < Count; row++)
        {
            var length = _lengths[row];
            var start = Start(row);
            var ids = _inputIds.AsSpan(row * SequenceLength, SequenceLength);
            ids.Fill(tokenizer.PaddingTokenId);
            var text = ids.Slice(start, length);
            var prefix = tokenizer.PrefixIds;
            for (var i = 0; i < prefix.Length; i++)
            {
                text[i] = prefix[i];
            }

            WriteIds(texts[row].Ids, texts[row].Count, text.Slice(prefix.Length, texts[row].Count));
            var suffix = tokenizer.SuffixIds;
            for (var i = 0; i < suffix.Length; i++)
            {
                text[prefix.Length + texts[row].Count + i] = suffix[i];
            }

            var mask = _attentionMask.AsSpan(row * SequenceLength, SequenceLength);
            mask.Clear();
            mask.Slice(start, length).Fill(1);

            if (_positionIds is not null)
            {
                // As transformers computes them for a padded batch: cumsum(mask) - 1, and 1 where the mask is 0.
                var positions = _positionIds.AsSpan(row * SequenceLength, SequenceLength);
                positions.Fill(1);
                for (var i = 0; i < length; i++)
                {
                    positions[start + i] = i;
                }
            }
        }

        long[] shape = [Count, SequenceLength];
        var inputs = new List<OrtValue>(4);
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

            if (_positionIds is not null)
            {
                inputs.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _positionIds.AsMemory(0, size), shape));
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

    /// <summary>The padding positions: the work spent on nothing.</summary>
    public int PaddingCount => Count * SequenceLength - TokenCount;

    /// <summary>Each text's token count, special tokens included: its attention mask covers that many positions from <see cref="Start"/>.</summary>
    public ReadOnlySpan<int> Lengths => _lengths.AsSpan(0, Count);

    /// <summary>input_ids, attention_mask, then token_type_ids and position_ids when the model takes them, in the order of <see cref="ModelSignature.InputNames"/>.</summary>
    public IReadOnlyList<OrtValue> Inputs { get; }

    /// <summary>The first position of a row that the attention mask covers: 0 when padded on the right.</summary>
    public int Start(int row) => _side == PaddingSide.Left ? SequenceLength - _lengths[row] : 0;

    /// <summary>The input ids of one row, padding included.</summary>
    public ReadOnlySpan<long> InputIds(int row) => _inputIds.AsSpan(row * SequenceLength, SequenceLength);

    /// <summary>The attention mask of one row.</summary>
    public ReadOnlySpan<long> AttentionMask(int row) => _attentionMask.AsSpan(row * SequenceLength, SequenceLength);

    /// <summary>The position ids of one row; empty when the model takes none.</summary>
    public ReadOnlySpan<long> PositionIds(int row) => _positionIds is null ? default : _positionIds.AsSpan(row * SequenceLength, SequenceLength);

    public static EncoderBatch Create(TextTokenizer tokenizer, ReadOnlySpan<TokenizedText> texts, PaddingSide side, bool withTokenTypeIds, bool withPositionIds) =>
        new(tokenizer, texts, side, withTokenTypeIds, withPositionIds);

    /// <summary>A batch of one short text, enough to ask the model for its output shape.</summary>
    public static EncoderBatch Probe(TextTokenizer tokenizer, bool withTokenTypeIds, bool withPositionIds)
    {
        // A tokenizer without special tokens still needs one position for the model to run on.
        IReadOnlyList<int> content = tokenizer.SpecialTokenCount == 0 ? [tokenizer.PaddingTokenId] : [];
        return new(tokenizer, new[] { new TokenizedText(content, content.Count, false) }, PaddingSide.Right, withTokenTypeIds, withPositionIds);
    }

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

        if (_positionIds is not null)
        {
            ArrayPool<long>.Shared.Return(_positionIds);
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
