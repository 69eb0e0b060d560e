using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace Mrl.Adapters.Onnx;

/// <summary>
/// The <c>task_id</c> input of a model with LoRA task adapters (jina-embeddings-v3): the id of the query adapter and
/// of the document adapter, each its index in the model's adapter list (<c>lora_adaptations</c> in
/// <c>config.json</c>), held as the int64 tensors fed with every batch of that input type.
/// </summary>
internal sealed class TaskAdapterInput : IDisposable
{
    /// <summary>The adapter queries use when the options name none.</summary>
    public const string DefaultQueryTask = "retrieval.query";

    /// <summary>The adapter documents use when the options name none.</summary>
    public const string DefaultDocumentTask = "retrieval.passage";

    private readonly OrtValue _query;
    private readonly OrtValue _document;

    private TaskAdapterInput(IReadOnlyList<string> adapters, string source, string queryTask, string documentTask, bool scalar)
    {
        Adapters = adapters;
        Source = source;
        QueryTask = queryTask;
        DocumentTask = documentTask;
        long[] shape = scalar ? [] : [1];
        _query = OrtValue.CreateTensorValueFromMemory(new long[] { IndexOf(adapters, queryTask) }, shape);
        _document = OrtValue.CreateTensorValueFromMemory(new long[] { IndexOf(adapters, documentTask) }, shape);
    }

    /// <summary>The adapter names in the model's order: an adapter's id is its index.</summary>
    public IReadOnlyList<string> Adapters { get; }

    /// <summary>Where <see cref="Adapters"/> came from: <c>config.json</c> or <c>profile</c>.</summary>
    public string Source { get; }

    public string QueryTask { get; }

    public string DocumentTask { get; }

    /// <summary>The tensor to feed for a request of <paramref name="inputType"/>.</summary>
    public OrtValue For(EmbeddingInputType inputType) => inputType == EmbeddingInputType.Query ? _query : _document;

    /// <summary>
    /// The task input of a model that takes one, or null for a model that does not (then the options must not name tasks).
    /// </summary>
    /// <param name="signature">The model's inputs, with the task input's name and rank.</param>
    /// <param name="fromConfig">The folder's <c>lora_adaptations</c>, or null.</param>
    /// <param name="profile">The matched profile, or null.</param>
    /// <param name="options">The generator's options, for <see cref="OnnxEmbeddingGeneratorOptions.QueryTask"/> and <see cref="OnnxEmbeddingGeneratorOptions.DocumentTask"/>.</param>
    /// <param name="modelPath">Named in the errors.</param>
    /// <exception cref="ArgumentException">The options name a task the model does not have, or tasks for a model without a task input.</exception>
    /// <exception cref="OnnxModelSignatureException">The model takes a task id and neither its folder nor a profile lists its adapters.</exception>
    public static TaskAdapterInput? Create(ModelSignature signature, IReadOnlyList<string>? fromConfig, OnnxModelProfile? profile, OnnxEmbeddingGeneratorOptions options, string modelPath)
    {
        if (signature.TaskIdName is not { } input)
        {
            if (options.QueryTask is not null || options.DocumentTask is not null)
            {
                throw new ArgumentException(
                    $"{nameof(OnnxEmbeddingGeneratorOptions)}.{(options.QueryTask is not null ? nameof(options.QueryTask) : nameof(options.DocumentTask))} names a task adapter, " +
                    $"but the model '{modelPath}' has no 'task_id' input to choose one with.", nameof(options));
            }

            return null;
        }

        var (adapters, source) = fromConfig is { Count: > 0 } ? (fromConfig, "config.json")
            : profile?.LoraAdaptations is { Count: > 0 } known ? (known, "profile")
            : throw new OnnxModelSignatureException(
                $"The model '{modelPath}' takes a '{input}' input choosing a task adapter, but its config.json has no 'lora_adaptations' list to number them, " +
                $"and no known model profile matches. Put the config.json next to the model, or name the profile with {nameof(OnnxEmbeddingGeneratorOptions)}.{nameof(OnnxEmbeddingGeneratorOptions.Profile)}.");
        var queryTask = Check(options.QueryTask, DefaultQueryTask, nameof(options.QueryTask), adapters, source);
        var documentTask = Check(options.DocumentTask, DefaultDocumentTask, nameof(options.DocumentTask), adapters, source);
        return new TaskAdapterInput(adapters, source, queryTask, documentTask, signature.TaskIdIsScalar);
    }

    public void Dispose()
    {
        _query.Dispose();
        _document.Dispose();
    }

    private static string Check(string? named, string fallback, string option, IReadOnlyList<string> adapters, string source)
    {
        var task = named ?? fallback;
        if (IndexOf(adapters, task) < 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{nameof(OnnxEmbeddingGeneratorOptions)}.{option} is '{task}'{(named is null ? " (the default)" : "")}, which is not one of the model's task adapters " +
                $"({string.Join(", ", adapters)}, from {source}). Name one of them."));
        }

        return task;
    }

    private static int IndexOf(IReadOnlyList<string> adapters, string task)
    {
        for (var i = 0; i < adapters.Count; i++)
        {
            if (string.Equals(adapters[i], task, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
