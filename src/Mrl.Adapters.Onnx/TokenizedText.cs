namespace Mrl.Adapters.Onnx;

/// <summary>One text's content ids (no special tokens): the first <see cref="Count"/> of <see cref="Ids"/> are used.</summary>
internal readonly record struct TokenizedText(IReadOnlyList<int> Ids, int Count, bool Truncated);
