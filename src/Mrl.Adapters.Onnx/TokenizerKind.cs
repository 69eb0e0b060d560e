namespace Mrl.Adapters.Onnx;

/// <summary>The tokenizer algorithm of a model, as found in its folder.</summary>
public enum TokenizerKind
{
    /// <summary>BERT's WordPiece (<c>vocab.txt</c>, or a <c>tokenizer.json</c> with a WordPiece model): BERT, nomic-embed-text, bge, mxbai, snowflake-arctic-embed.</summary>
    WordPiece,

    /// <summary>SentencePiece Unigram (a <c>.model</c> file, or a <c>tokenizer.json</c> with a Unigram model): XLM-R, multilingual-e5, bge-m3, jina-embeddings-v3.</summary>
    SentencePieceUnigram,

    /// <summary>SentencePiece BPE (a <c>.model</c> file): Gemma, EmbeddingGemma, Llama 2.</summary>
    SentencePieceBpe,

    /// <summary>Byte-level BPE (a <c>tokenizer.json</c> with a BPE model and a ByteLevel pre-tokenizer): Qwen3-Embedding, gte-Qwen2, GPT-2 style models.</summary>
    ByteLevelBpe,
}
