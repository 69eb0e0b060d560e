using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mrl.Adapters.Onnx;

/// <summary>The names the generator feeds and reads, found in the model's metadata or named by the options, and checked once at load.</summary>
internal sealed class ModelSignature
{
    private static readonly string[] PooledOutputNames = ["sentence_embedding", "pooler_output"];
    // text_embeds: jina-embeddings-v3's export.
    private static readonly string[] TokenOutputNames = ["last_hidden_state", "token_embeddings", "text_embeds"];

    private const string TaskIdInputName = "task_id";

    private ModelSignature(string inputIds, string attentionMask, string? tokenTypeIds, string? positionIds, string? taskId, bool taskIdIsScalar, string output, bool outputIsPooled, int hiddenSize)
    {
        TaskIdName = taskId;
        TaskIdIsScalar = taskIdIsScalar;
        PositionIdsName = positionIds;
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

    /// <summary>Null when the model numbers positions itself (encoders); decoder exports such as Qwen3-Embedding's take them.</summary>
    public string? PositionIdsName { get; }

    /// <summary>Null unless the model chooses a LoRA task adapter with an int64 id (jina-embeddings-v3's <c>task_id</c>).</summary>
    public string? TaskIdName { get; }

    /// <summary>True when the task id is a scalar (jina-embeddings-v3), false when it is a one-element <c>[1]</c> tensor.</summary>
    public bool TaskIdIsScalar { get; }

    public string OutputName { get; }

    /// <summary>True for a <c>[batch, hidden]</c> output, false for <c>[batch, sequence, hidden]</c>.</summary>
    public bool OutputIsPooled { get; }

    /// <summary>The output's last dimension, or 0 when the metadata leaves it symbolic.</summary>
    public int HiddenSize { get; }

    /// <summary>The input names in the order the generator passes the tensors: ids, mask, then token types, position ids and the task id when present.</summary>
    public string[] InputNames()
    {
        var names = new List<string>(4) { InputIdsName, AttentionMaskName };
        if (TokenTypeIdsName is not null)
        {
            names.Add(TokenTypeIdsName);
        }

        if (PositionIdsName is not null)
        {
            names.Add(PositionIdsName);
        }

        if (TaskIdName is not null)
        {
            names.Add(TaskIdName);
        }

        return [.. names];
    }

    public ModelSignature WithHiddenSize(int hiddenSize) =>
        new(InputIdsName, AttentionMaskName, TokenTypeIdsName, PositionIdsName, TaskIdName, TaskIdIsScalar, OutputName, OutputIsPooled, hiddenSize);

    /// <summary>Whether the model has a float <c>[batch, hidden]</c> output named <c>sentence_embedding</c>: a sentence-transformers export that pools by itself.</summary>
    public static bool HasSentenceEmbedding(IReadOnlyDictionary<string, NodeMetadata> outputs) =>
        outputs.TryGetValue(PooledOutputNames[0], out var metadata) && Fits(metadata, 2);

    /// <exception cref="OnnxModelSignatureException">An input or output is missing, has the wrong type or rank, or the model needs an input the generator cannot feed.</exception>
    public static ModelSignature Discover(
        IReadOnlyDictionary<string, NodeMetadata> inputs,
        IReadOnlyDictionary<string, NodeMetadata> outputs,
        OnnxEmbeddingGeneratorOptions options,
        OnnxPooling pooling,
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

        var positionIds = inputs.ContainsKey("position_ids") ? RequireInput(inputs, "position_ids", "position_ids", modelPath) : null;
        var (taskId, taskIdIsScalar) = inputs.ContainsKey(TaskIdInputName) ? RequireTaskId(inputs, modelPath) : (null, false);
        var unfed = inputs.Keys.Where(name => name != inputIds && name != attentionMask && name != tokenTypeIds && name != positionIds && name != taskId)
            .Order(StringComparer.Ordinal).ToList();
        if (unfed.Count > 0)
        {
            throw new OnnxModelSignatureException(
                $"The model '{modelPath}' also needs {string.Join(", ", unfed.Select(name => Describe(name, inputs[name])))}; " +
                $"this generator feeds only token ids, the attention mask, token type ids, position ids and a task adapter id. Its inputs: {DescribeAll(inputs)}.");
        }

        var pooled = pooling == OnnxPooling.ModelOutput;
        var rank = pooled ? 2 : 3;
        var output = options.OutputName is { } outputName
            ? RequireOutput(outputs, outputName, rank, pooling, modelPath)
            : FindOutput(outputs, pooled ? PooledOutputNames : TokenOutputNames, rank, pooling, modelPath);
        var hidden = outputs[output].Dimensions[^1];
        return new ModelSignature(inputIds, attentionMask, tokenTypeIds, positionIds, taskId, taskIdIsScalar, output, pooled, hidden > 0 ? hidden : 0);
    }

    private static (string Name, bool IsScalar) RequireTaskId(IReadOnlyDictionary<string, NodeMetadata> inputs, string modelPath)
    {
        var metadata = inputs[TaskIdInputName];
        if (!metadata.IsTensor || metadata.ElementDataType != TensorElementType.Int64
            || metadata.Dimensions.Length > 1 || (metadata.Dimensions.Length == 1 && metadata.Dimensions[0] > 1))
        {
            throw new OnnxModelSignatureException(
                $"The model '{modelPath}' input {Describe(TaskIdInputName, metadata)} does not fit: expected an int64 scalar or [1] tensor holding a task adapter id.");
        }

        return (TaskIdInputName, metadata.Dimensions.Length == 0);
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
