using Microsoft.ML.Tokenizers;

namespace Mrl.Adapters.Onnx;

/// <summary>Builds a tokenizer from a SentencePiece <c>.model</c> file and the special tokens its folder's configuration names.</summary>
internal static class SentencePieceModelFile
{
    // TrainerSpec.ModelType in sentencepiece_model.proto.
    private const int UnigramModelType = 1;
    private const int BpeModelType = 2;

    /// <param name="path">The <c>.model</c> file.</param>
    /// <param name="template">The special tokens from a <c>tokenizer.json</c> beside it; null to take them from <c>tokenizer_config.json</c>.</param>
    public static TextTokenizer Load(string path, SpecialTokenTemplate? template)
    {
        if (Path.GetFileName(path).Equals("sentencepiece.bpe.model", StringComparison.OrdinalIgnoreCase))
        {
            // fairseq's XLM-R numbering puts <s> <pad> </s> <unk> first and shifts every piece by one; the model's
            // tokenizer.json carries the real ids, so that file is the one to read.
            throw HuggingFaceTokenizerJson.NotSupported(path,
                "XLM-R's sentencepiece.bpe.model numbers its pieces differently from the ids the model was trained on; use the tokenizer.json beside it");
        }

        var bytes = File.ReadAllBytes(path);
        var kind = ReadModelType(bytes) switch
        {
            UnigramModelType => TokenizerKind.SentencePieceUnigram,
            BpeModelType => TokenizerKind.SentencePieceBpe,
            var other => throw HuggingFaceTokenizerJson.NotSupported(path, $"its SentencePiece model type is {other?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "missing"}, not Unigram (1) or BPE (2)"),
        };

        SentencePieceTokenizer tokenizer;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            tokenizer = SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or IOException)
        {
            throw HuggingFaceTokenizerJson.NotSupported(path, e.Message, e);
        }

        var config = TokenizerConfig.Read(Path.GetDirectoryName(path));
        template ??= new SpecialTokenTemplate(
            config.AddBos ?? true ? [tokenizer.BeginningOfSentenceId] : [],
            config.AddEos ?? false ? [tokenizer.EndOfSentenceId] : []);
        var vocabulary = tokenizer.Vocabulary;
        var pad = config.PadToken is { } named && vocabulary.TryGetValue(named, out var padId) ? padId
            : vocabulary.TryGetValue("<pad>", out var defaultPad) ? defaultPad
            : tokenizer.UnknownId;
        return new TextTokenizer(tokenizer, kind, template.Prefix, template.Suffix, pad, path);
    }

    /// <summary>Reads ModelProto.trainer_spec (field 2).model_type (field 3) from the protobuf; null when absent.</summary>
    /// <remarks>The library does not expose which algorithm a model uses, and the model description should name it.</remarks>
    internal static int? ReadModelType(ReadOnlySpan<byte> model)
    {
        var trainerSpec = FindField(model, 2, lengthDelimited: true, out _);
        if (trainerSpec.IsEmpty)
        {
            return null;
        }

        FindField(trainerSpec, 3, lengthDelimited: false, out var value);
        return value is { } type ? (int)type : UnigramModelType;
    }

    private static ReadOnlySpan<byte> FindField(ReadOnlySpan<byte> message, int field, bool lengthDelimited, out ulong? varint)
    {
        varint = null;
        var position = 0;
        while (position < message.Length)
        {
            var key = ReadVarint(message, ref position);
            var number = (int)(key >> 3);
            switch ((int)(key & 7))
            {
                case 0:
                    var value = ReadVarint(message, ref position);
                    if (number == field && !lengthDelimited)
                    {
                        varint = value;
                        return default;
                    }

                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    if (number == field && lengthDelimited)
                    {
                        return message.Slice(position, length);
                    }

                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException("The SentencePiece model is not a valid protobuf message.");
            }
        }

        return default;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length)
            {
                throw new InvalidDataException("The SentencePiece model ends inside a number.");
            }

            var b = data[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw new InvalidDataException("The SentencePiece model holds a number longer than 64 bits.");
    }
}
