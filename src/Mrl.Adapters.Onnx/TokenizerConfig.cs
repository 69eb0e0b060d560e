using System.Text.Json;

namespace Mrl.Adapters.Onnx;

/// <summary>What a model folder's <c>tokenizer_config.json</c> says about special tokens, padding and length.</summary>
internal sealed record TokenizerConfig(bool? AddBos, bool? AddEos, string? PadToken, PaddingSide? PaddingSide, int? ModelMaxLength, string? TokenizerClass)
{
    public static readonly TokenizerConfig None = new(null, null, null, null, null, null);

    // transformers writes a huge sentinel (1e30) for "no limit".
    private const long NoLimit = 1_000_000_000;

    /// <summary>Reads <c>tokenizer_config.json</c> in <paramref name="directory"/>, or <see cref="None"/> when there is none.</summary>
    public static TokenizerConfig Read(string? directory)
    {
        if (directory is null)
        {
            return None;
        }

        using var document = JsonReading.ParseIfExists(Path.Combine(directory, "tokenizer_config.json"), "tokenizer config");
        if (document is null)
        {
            return None;
        }

        var root = document.RootElement;
        int? maxLength = root.Property("model_max_length") is { ValueKind: JsonValueKind.Number } max
            && max.TryGetDouble(out var value) && value is > 0 and < NoLimit ? (int)value : null;
        PaddingSide? side = root.StringProperty("padding_side") switch
        {
            "left" => Onnx.PaddingSide.Left,
            "right" => Onnx.PaddingSide.Right,
            _ => null,
        };
        return new TokenizerConfig(root.BoolProperty("add_bos_token"), root.BoolProperty("add_eos_token"), root.TokenProperty("pad_token"),
            side, maxLength, root.StringProperty("tokenizer_class"));
    }
}
