namespace Mrl.Adapters.Onnx;

/// <summary>How the encoder's output becomes one vector per text.</summary>
public enum OnnxPooling
{
    /// <summary>
    /// The average of the token states over the attention mask, special tokens included, as sentence-transformers
    /// pools (nomic-embed-text, all-MiniLM, e5). Reads a <c>[batch, sequence, hidden]</c> output such as
    /// <c>last_hidden_state</c> or <c>token_embeddings</c>.
    /// </summary>
    Mean,

    /// <summary>The state of the first token, <c>[CLS]</c> (the BGE family). Reads a <c>[batch, sequence, hidden]</c> output.</summary>
    Cls,

    /// <summary>
    /// The model's own pooled <c>[batch, hidden]</c> output, such as the <c>sentence_embedding</c> of a
    /// sentence-transformers export, taken as it is.
    /// </summary>
    ModelOutput,

    /// <summary>
    /// The state of the last token under the attention mask, wherever the padding is (Qwen3-Embedding and other
    /// decoder embedders). Reads a <c>[batch, sequence, hidden]</c> output.
    /// </summary>
    LastToken,
}
