namespace Mrl.Adapters.Onnx;

/// <summary>Where a batch pads the texts shorter than its longest.</summary>
public enum PaddingSide
{
    /// <summary>Padding after the text, as encoders (BERT, XLM-R, Gemma) are run.</summary>
    Right,

    /// <summary>Padding before the text, as decoder embedders such as Qwen3-Embedding are run, so the last token of every text is the last position.</summary>
    Left,
}
