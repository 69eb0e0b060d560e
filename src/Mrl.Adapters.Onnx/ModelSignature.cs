using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mrl.Adapters.Onnx;

/// <summary>The names the generator feeds and reads, found in the model's metadata or named by the options, and checked once at load.</summary>
internal sealed class ModelSignature
{
    private static readonly string[] PooledOutputNames = ["sentence_embedding", "pooler_output"];
    private static readonly string[] TokenOutputNames = ["last_hidden_state", "token_embeddings"];

    private ModelSignature(string inputIds, string attentionMask, string? tokenTypeIds, string output, bool outputIsPooled, int hiddenSize)
    {
        InputIdsName = inputIds;
        AttentionMaskName = attentionMask;
        TokenTypeIdsName = tokenTypeIds;
        OutputName = output;
        OutputIsPooled = outputIsPooled;
        HiddenSize = hiddenSize;
    }

    public string InputIdsName { get; }

    public string AttentionMaskName { get; }

    /// <summary>Null when the model takes no token types (DistilBERT-style exports).</summary>
    public string? TokenTypeIdsName { get; }

    public string OutputName { get; }

    /// <summary>True for a <c>[batch, hidden]</c> output, false for <c>[batch, sequence, hidden]</c>.</summary>
    public bool OutputIsPooled { get; }

    /// <summary>The output's last dimension, or 0 when the metadata leaves it symbolic.</summary>
    public int HiddenSize { get; }

    /// <summary>The input names in the order the generator passes the tensors: ids, mask, then token types when present.</summary>
    public string[] InputNames() => TokenTypeIdsName is null
        ? [InputIdsName, AttentionMaskName]
        : [InputIdsName, AttentionMaskName, TokenTypeIdsName];

    public ModelSignature WithHiddenSize(int hiddenSize) =>
        new(InputIdsName, AttentionMaskName, TokenTypeIdsName, OutputName, OutputIsPooled, hiddenSize);

    /// <exception cref="OnnxModelSignatureException">An input or output is missing, has the wrong type or rank, or the model needs an input the generator cannot feed.</exception>
    public static ModelSignature Discover(
        IReadOnlyDictionary<string, NodeMetadata> inputs,
        IReadOnlyDictionary<string, NodeMetadata> outputs,
        OnnxEmbeddingGeneratorOptions options,
        string modelPath)
    {
        var inputIds = RequireInput(inputs, options.InputIdsInputName ?? "input_ids", nameof(options.InputIdsInputName), modelPath);
        var attentionMask = RequireInput(inputs, options.AttentionMaskInputName ?? "attention_mask", nameof(options.AttentionMaskInputName), modelPath);
        string? tokenTypeIds = null;
        if (options.TokenTypeIdsInputName is { } named)
        {
            tokenTypeIds = RequireInput(inputs, named, nameof(options.TokenTypeIdsInputName), modelPath);
        }
        else if (inputs.ContainsKey("token_type_ids"))
        {
            tokenTypeIds = RequireInput(inputs, "token_type_ids", nameof(options.TokenTypeIdsInputName), modelPath);
        }

        var unfed = inputs.Keys.Where(name => name != inputIds && name != attentionMask && name != tokenTypeIds).Order(StringComparer.Ordinal).ToList();
        if (unfed.Count > 0)
        {
            throw new OnnxModelSignatureException(
                $"The model '{modelPath}' also needs {string.Join(", ", unfed.Select(name => Describe(name, inputs[name])))}; " +
                $"this generator feeds only token ids, the attention mask and token type ids. Its inputs: {DescribeAll(inputs)}.");
        }

        var pooled = options.Pooling == OnnxPooling.ModelOutput;
        var rank = pooled ? 2 : 3;
        var output = options.OutputName is { } outputName
            ? RequireOutput(outputs, outputName, rank, options.Pooling, modelPath)
            : FindOutput(outputs, pooled ? PooledOutputNames : TokenOutputNames, rank, options.Pooling, modelPath);
        var hidden = outputs[output].Dimensions[^1];
        return new ModelSignature(inputIds, attentionMask, tokenTypeIds, output, pooled, hidden > 0 ? hidden : 0);
    }

    private static string RequireInput(IReadOnlyDictionary<string, NodeMetadata> inputs, string name, string option, string modelPath)
    {
        if (!inputs.TryGetValue(name, out var metadata))
        {
            throw new OnnxModelSignatureException(
                $"The model '{modelPath}' has no input '{name}'. Its inputs: {DescribeAll(inputs)}. " +
                $"Name the right one with {nameof(OnnxEmbeddingGeneratorOptions)}.{option}.");
        }

        if (!metadata.IsTensor || metadata.ElementDataType != TensorElementType.Int64 || metadata.Dimensions.Length != 2)
        {
            throw new OnnxModelSignatureException(
                $"The model '{modelPath}' input {Describe(name, metadata)} does not fit: expected an int64 tensor [batch, sequence].");
        }

        return name;
    }

    private static string RequireOutput(IReadOnlyDictionary<string, NodeMetadata> outputs, string name, int rank, OnnxPooling pooling, string modelPath)
    {
        if (!outputs.TryGetValue(name, out var metadata))
        {
            throw new OnnxModelSignatureException(
                $"The model '{modelPath}' has no output '{name}'. Its outputs: {DescribeAll(outputs)}.");
        }

        if (!Fits(metadata, rank))
        {
            throw new OnnxModelSignatureException(
                $"The model '{modelPath}' output {Describe(name, metadata)} does not fit {pooling} pooling, which needs a float tensor {ExpectedShape(rank)}.");
        }

        return name;
    }

    private static string FindOutput(IReadOnlyDictionary<string, NodeMetadata> outputs, string[] preferred, int rank, OnnxPooling pooling, string modelPath)
    {
        foreach (var name in preferred)
        {
            if (outputs.TryGetValue(name, out var metadata) && Fits(metadata, rank))
            {
                return name;
            }
        }

        var fitting = outputs.Where(pair => Fits(pair.Value, rank)).Select(pair => pair.Key).ToList();
        if (fitting.Count == 1)
        {
            return fitting[0];
        }

        var hint = pooling == OnnxPooling.ModelOutput
            ? $"use {nameof(OnnxPooling.Mean)} or {nameof(OnnxPooling.Cls)} pooling on a [batch, sequence, hidden] output instead"
            : $"use {nameof(OnnxPooling.ModelOutput)} pooling if the model pools by itself";
        throw new OnnxModelSignatureException(fitting.Count == 0
            ? $"The model '{modelPath}' has no float output {ExpectedShape(rank)} for {pooling} pooling. Its outputs: {DescribeAll(outputs)}; {hint}."
            : $"The model '{modelPath}' has several float outputs {ExpectedShape(rank)} ({string.Join(", ", fitting)}); " +
              $"name one with {nameof(OnnxEmbeddingGeneratorOptions)}.{nameof(OnnxEmbeddingGeneratorOptions.OutputName)}.");
    }

    private static bool Fits(NodeMetadata metadata, int rank) =>
        metadata.IsTensor && metadata.ElementDataType == TensorElementType.Float && metadata.Dimensions.Length == rank;

    private static string ExpectedShape(int rank) => rank == 2 ? "[batch, hidden]" : "[batch, sequence, hidden]";

    private static string DescribeAll(IReadOnlyDictionary<string, NodeMetadata> nodes) =>
        nodes.Count == 0 ? "none" : string.Join(", ", nodes.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => Describe(pair.Key, pair.Value)));

    private static string Describe(string name, NodeMetadata metadata)
    {
        if (!metadata.IsTensor)
        {
            return $"'{name}' ({metadata.OnnxValueType})";
        }

        var dimensions = metadata.Dimensions.Select((size, i) =>
            size >= 0 ? size.ToString(CultureInfo.InvariantCulture)
            : i < metadata.SymbolicDimensions.Length && !string.IsNullOrEmpty(metadata.SymbolicDimensions[i]) ? metadata.SymbolicDimensions[i]
            : "?");
        return $"'{name}' ({metadata.ElementDataType.ToString().ToLowerInvariant()} [{string.Join(", ", dimensions)}])";
    }
}
