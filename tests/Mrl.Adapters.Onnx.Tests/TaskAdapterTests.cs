using System.Numerics.Tensors;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Mrl.Adapters.Onnx.Tests;

/// <summary>
/// Models that choose a LoRA task adapter with a <c>task_id</c> input (jina-embeddings-v3). The fixture graph adds a
/// large value at dimension <c>task_id</c> of every token state, so the embedding's largest dimension is the id fed.
/// </summary>
public sealed class TaskAdapterTests
{
    private static readonly string[] JinaOrder = ["retrieval.query", "retrieval.passage", "separation", "classification", "text-matching"];

    private static EmbeddingGenerationOptions Query => new EmbeddingGenerationOptions().WithInputType(EmbeddingInputType.Query);

    private static async Task<int> TaskIdSeenAsync(OnnxEmbeddingGenerator generator, EmbeddingGenerationOptions? options = null)
    {
        var embeddings = await generator.GenerateAsync(["The cat sat on the mat.", "Le chat est assis sur le tapis."], options);
        var ids = embeddings.Select(e => TensorPrimitives.IndexOfMax(e.Vector.Span)).Distinct().ToList();
        Assert.True(embeddings.All(e => e.Vector.Span[ids[0]] > 0.9f), "the task's dimension should dominate the embedding");
        return Assert.Single(ids);
    }

    [Fact]
    public async Task Queries_get_the_retrieval_query_adapter_and_documents_the_retrieval_passage_adapter()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.TaskAdapters);

        Assert.Equal(0, await TaskIdSeenAsync(generator, Query));
        Assert.Equal(1, await TaskIdSeenAsync(generator));
        Assert.Equal(1, await TaskIdSeenAsync(generator, new EmbeddingGenerationOptions().WithInputType(EmbeddingInputType.Document)));
    }

    [Fact]
    public async Task The_ids_follow_the_order_of_lora_adaptations_in_config_json()
    {
        using var directory = CopyFixture(config => config["lora_adaptations"] = new JsonArray("text-matching", "separation", "retrieval.passage", "classification", "retrieval.query"));
        using var generator = OnnxEmbeddingGenerator.FromDirectory(directory.Path);

        Assert.Equal(4, await TaskIdSeenAsync(generator, Query));
        Assert.Equal(2, await TaskIdSeenAsync(generator));
        Assert.Equal("config.json", generator.Description.TaskAdaptersSource);
    }

    [Fact]
    public async Task The_options_choose_other_adapters_by_name()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.TaskAdapters, new() { QueryTask = "text-matching", DocumentTask = "separation" });

        Assert.Equal(4, await TaskIdSeenAsync(generator, Query));
        Assert.Equal(2, await TaskIdSeenAsync(generator));
    }

    [Fact]
    public async Task Without_lora_adaptations_the_profile_numbers_the_adapters()
    {
        using var directory = CopyFixture(config => config.Remove("lora_adaptations"));
        using var generator = OnnxEmbeddingGenerator.FromDirectory(directory.Path, new() { Profile = "jina-embeddings-v3" });

        Assert.Equal(0, await TaskIdSeenAsync(generator, Query));
        Assert.Equal(1, await TaskIdSeenAsync(generator));
        Assert.Equal("profile", generator.Description.TaskAdaptersSource);
    }

    [Fact]
    public void Without_lora_adaptations_or_a_profile_the_model_is_refused_with_the_reason()
    {
        using var directory = CopyFixture(config => config.Remove("lora_adaptations"));

        var error = Assert.Throws<OnnxModelSignatureException>(() => OnnxEmbeddingGenerator.FromDirectory(directory.Path));

        Assert.Contains("'task_id'", error.Message, StringComparison.Ordinal);
        Assert.Contains("lora_adaptations", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_task_is_refused_with_the_model_s_adapters()
    {
        var error = Assert.Throws<ArgumentException>(() => OnnxEmbeddingGenerator.FromDirectory(Fixtures.TaskAdapters, new() { QueryTask = "retrieval" }));

        Assert.Contains("QueryTask is 'retrieval'", error.Message, StringComparison.Ordinal);
        Assert.Contains(string.Join(", ", JinaOrder), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_task_for_a_model_without_a_task_input_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, new() { DocumentTask = "text-matching" }));

        Assert.Contains("DocumentTask", error.Message, StringComparison.Ordinal);
        Assert.Contains("no 'task_id' input", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_description_names_the_adapters_and_the_prompts_keyed_by_task()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.TaskAdapters);
        var description = generator.Description;

        Assert.Equal(JinaOrder, description.TaskAdapters);
        Assert.Equal("retrieval.query", description.QueryTask);
        Assert.Equal("retrieval.passage", description.DocumentTask);
        Assert.Equal("Represent the query for retrieving evidence documents: ", description.QueryPrompt);
        Assert.Equal("Represent the document for retrieval: ", description.DocumentPrompt);
        Assert.Equal(["input_ids", "attention_mask", "task_id"], generator.Signature.InputNames());
        Assert.Equal("text_embeds", generator.Signature.OutputName);
        Assert.Equal(OnnxPooling.Mean, description.Pooling);
    }

    [Fact]
    public void A_model_without_a_task_input_describes_no_adapters()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base);

        Assert.Empty(generator.Description.TaskAdapters);
        Assert.Null(generator.Description.QueryTask);
        Assert.Null(generator.Description.TaskAdaptersSource);
    }

    [Fact]
    public void The_jina_v3_profile_is_detected_by_name_and_lists_its_adapters()
    {
        var profile = OnnxModelProfile.Detect(["/models/jinaai/jina-embeddings-v3"], null, null);

        Assert.NotNull(profile);
        Assert.Equal("jinaai/jina-embeddings-v3", profile.Name);
        Assert.Equal(JinaOrder, profile.LoraAdaptations);
        Assert.Equal([1024, 768, 512, 256, 128, 64, 32], profile.MatryoshkaDimensions);
    }

    private static TemporaryDirectory CopyFixture(Action<JsonObject> editConfig)
    {
        var directory = new TemporaryDirectory();
        foreach (var file in Directory.EnumerateFiles(Fixtures.TaskAdapters, "*", SearchOption.AllDirectories))
        {
            directory.Copy(file, Path.GetRelativePath(Fixtures.TaskAdapters, file));
        }

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.TaskAdapters, "config.json")))!.AsObject();
        editConfig(config);
        directory.Write("config.json", config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return directory;
    }
}
