using Microsoft.Extensions.AI;

namespace Mrl.Adapters.Onnx.Tests;

/// <summary>
/// SentencePiece (BPE and Unigram) and byte-level BPE model folders against ids from the sentencepiece library and a
/// separate BPE encoder, and embeddings from numpy, all computed by make_tokenizer_fixtures.py.
/// </summary>
public sealed class TokenizerFamilyTests
{
    private const float Tolerance = 1e-4f;

    public static TheoryData<string> Families() => new(TokenizerFixtures.References.Families.Select(f => f.Name));

    public static TheoryData<string, string, PaddingSide> Cases()
    {
        var data = new TheoryData<string, string, PaddingSide>();
        foreach (var family in TokenizerFixtures.References.Families)
        {
            foreach (var reference in family.Cases)
            {
                data.Add(family.Name, reference.Name, PaddingSide.Right);

                // Left padding is right only for a model fed position ids: an encoder that numbers positions itself
                // sees shifted positions, with Hugging Face as here.
                if (family.Causal)
                {
                    data.Add(family.Name, reference.Name, PaddingSide.Left);
                }
            }
        }

        return data;
    }

    [Theory]
    [InlineData("sentencepiece-bpe", TokenizerKind.SentencePieceBpe)]
    [InlineData("sentencepiece-unigram", TokenizerKind.SentencePieceUnigram)]
    [InlineData("byte-level-bpe", TokenizerKind.ByteLevelBpe)]
    public void Each_family_loads_from_its_model_folder(string name, TokenizerKind kind)
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(TokenizerFixtures.Directory(TokenizerFixtures.Family(name)));

        Assert.Equal(kind, generator.Description.Tokenizer);
        Assert.Equal(TokenizerFixtures.References.HiddenSize, generator.ModelDimensions);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Token_ids_match_the_reference_exactly_with_and_without_the_prompt(string name)
    {
        var family = TokenizerFixtures.Family(name);
        using var generator = OnnxEmbeddingGenerator.FromDirectory(TokenizerFixtures.Directory(family));
        var prompts = new Dictionary<string, string?> { ["query"] = generator.Description.QueryPrompt };

        foreach (var text in family.Texts)
        {
            var prompt = text.Prompt is null ? null : prompts[text.Prompt];
            Assert.Equal(text.Ids, generator.Tokenizer.Encode(prompt, text.Text, 4096));
            Assert.Equal(text.IdsTruncated, generator.Tokenizer.Encode(prompt, text.Text, TokenizerFixtures.References.TruncatedMaxSequenceLength));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Embeddings_match_the_numpy_reference_within_1e_4(string name, string caseName, PaddingSide side)
    {
        var family = TokenizerFixtures.Family(name);
        var reference = family.Cases.Single(c => c.Name == caseName);
        using var generator = OnnxEmbeddingGenerator.FromDirectory(TokenizerFixtures.Directory(family), new()
        {
            Pooling = reference.OnnxPooling,
            PaddingSide = side,
            MaxSequenceLength = reference.MaxSequenceLength,
            // The reference's texts without a prompt: documents with the document prompt turned off.
            DocumentPrefix = string.Empty,
            BatchSize = 7,
        });
        var texts = family.Texts.Where(t => t.Prompt == reference.Prompt).Select(t => t.Text).ToList();
        var options = new EmbeddingGenerationOptions { Dimensions = reference.Dimensions }
            .WithInputType(reference.Prompt is null ? EmbeddingInputType.Document : EmbeddingInputType.Query);

        var embeddings = await generator.GenerateAsync(texts, options);

        Assert.Equal(reference.Embeddings.Length, embeddings.Count);
        for (var i = 0; i < embeddings.Count; i++)
        {
            ReferenceEmbeddingTests.AssertClose(reference.Embeddings[i], embeddings[i].Vector.Span, $"{name} {caseName} {side}, text {i}", Tolerance);
        }
    }

    [Fact]
    public void The_folder_configuration_is_detected()
    {
        using var bytes = OnnxEmbeddingGenerator.FromDirectory(TokenizerFixtures.Directory(TokenizerFixtures.Family("byte-level-bpe")));
        using var gemma = OnnxEmbeddingGenerator.FromDirectory(TokenizerFixtures.Directory(TokenizerFixtures.Family("sentencepiece-bpe")));

        Assert.Equal(OnnxPooling.LastToken, bytes.Description.Pooling);
        Assert.Equal("1_Pooling/config.json", bytes.Description.PoolingSource);
        Assert.Equal(PaddingSide.Left, bytes.Description.PaddingSide);
        Assert.True(bytes.Description.TakesPositionIds);
        Assert.StartsWith("Instruct: Given a web search query", bytes.Description.QueryPrompt, StringComparison.Ordinal);
        Assert.Null(bytes.Description.DocumentPrompt);
        Assert.Equal("config_sentence_transformers.json", bytes.Description.PromptSource);
        Assert.Equal(8192, bytes.Description.MaxSequenceLength);

        Assert.Equal(OnnxPooling.Mean, gemma.Description.Pooling);
        Assert.Equal(PaddingSide.Right, gemma.Description.PaddingSide);
        Assert.Equal("task: search result | query: ", gemma.Description.QueryPrompt);
        Assert.Equal("title: none | text: ", gemma.Description.DocumentPrompt);
        Assert.Equal(2048, gemma.Description.MaxSequenceLength);
    }

    [Fact]
    public async Task The_input_type_picks_the_prompt_and_options_override_it()
    {
        var family = TokenizerFixtures.Family("sentencepiece-unigram");
        using var detected = OnnxEmbeddingGenerator.FromDirectory(TokenizerFixtures.Directory(family));
        using var overridden = OnnxEmbeddingGenerator.FromDirectory(TokenizerFixtures.Directory(family), new() { QueryPrefix = "passage: " });
        var query = new EmbeddingGenerationOptions().WithInputType(EmbeddingInputType.Query);

        Assert.Equal("query: ", detected.ResolvePrefix(query));
        Assert.Equal("passage: ", detected.ResolvePrefix(null));
        Assert.Equal("passage: ", overridden.ResolvePrefix(query));
        var asQuery = await detected.GenerateAsync(["the cat sat"], query);
        var asDocument = await detected.GenerateAsync(["the cat sat"]);
        var overriddenQuery = await overridden.GenerateAsync(["the cat sat"], query);
        Assert.NotEqual(asQuery[0].Vector.ToArray(), asDocument[0].Vector.ToArray());
        Assert.Equal(asDocument[0].Vector.ToArray(), overriddenQuery[0].Vector.ToArray());
    }

    [Fact]
    public async Task Truncated_texts_are_counted_and_reported()
    {
        var family = TokenizerFixtures.Family("byte-level-bpe");
        var max = TokenizerFixtures.References.TruncatedMaxSequenceLength;
        var texts = family.Texts.Where(t => t.Prompt is null).ToList();
        var expected = texts.Count(t => t.Ids.Length > max);
        using var generator = OnnxEmbeddingGenerator.FromDirectory(TokenizerFixtures.Directory(family), new() { MaxSequenceLength = max, DocumentPrefix = string.Empty });

        var embeddings = await generator.GenerateAsync(texts.Select(t => t.Text).ToList());

        Assert.InRange(expected, 1, texts.Count - 1);
        Assert.Equal(expected, generator.TruncatedTexts);
        Assert.Equal(expected, embeddings.Usage!.AdditionalCounts!["truncated_texts"]);
    }

    [Fact]
    public async Task Sorting_by_length_cuts_padding_and_keeps_the_order_of_the_results()
    {
        var family = TokenizerFixtures.Family("sentencepiece-bpe");
        var texts = family.Texts.Where(t => t.Prompt is null).Select(t => t.Text).ToList();
        using var sorted = OnnxEmbeddingGenerator.FromDirectory(TokenizerFixtures.Directory(family), new() { BatchSize = 4 });
        using var unsorted = OnnxEmbeddingGenerator.FromDirectory(TokenizerFixtures.Directory(family), new() { BatchSize = 4, SortByLength = false });

        var a = await sorted.GenerateAsync(texts);
        var b = await unsorted.GenerateAsync(texts);

        for (var i = 0; i < texts.Count; i++)
        {
            ReferenceEmbeddingTests.AssertClose(b[i].Vector.Span, a[i].Vector.Span, $"text {i}", 1e-5f);
        }

        Assert.Equal(b.Usage!.InputTokenCount, a.Usage!.InputTokenCount);
        Assert.True(a.Usage.AdditionalCounts!["padding_tokens"] < b.Usage.AdditionalCounts!["padding_tokens"],
            $"sorted padding {a.Usage.AdditionalCounts["padding_tokens"]} is not below unsorted {b.Usage.AdditionalCounts["padding_tokens"]}");
    }

    [Fact]
    public void Left_padding_right_aligns_the_ids_and_numbers_positions_from_the_first_real_token()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(TokenizerFixtures.Directory(TokenizerFixtures.Family("byte-level-bpe")));

        using var batch = generator.Tokenize(["a", "the cat sat on the mat"], 0, 2, prefix: null);

        var shortRow = batch.Lengths[0];
        var padding = batch.SequenceLength - shortRow;
        Assert.True(padding > 0);
        Assert.Equal(padding, batch.Start(0));
        Assert.All(batch.AttentionMask(0)[..padding].ToArray(), m => Assert.Equal(0, m));
        Assert.All(batch.AttentionMask(0)[padding..].ToArray(), m => Assert.Equal(1, m));
        Assert.Equal(Enumerable.Range(0, shortRow).Select(i => (long)i), batch.PositionIds(0)[padding..].ToArray());
        Assert.Equal(generator.Tokenizer.SuffixIds[^1], batch.InputIds(0)[^1]);
    }

    [Theory]
    [InlineData("qwen3-embedding", TokenizerKind.ByteLevelBpe)]
    [InlineData("gte-qwen2", TokenizerKind.ByteLevelBpe)]
    [InlineData("gpt2-style", TokenizerKind.ByteLevelBpe)]
    [InlineData("multilingual-e5", TokenizerKind.SentencePieceUnigram)]
    [InlineData("xlm-roberta-legacy", TokenizerKind.SentencePieceUnigram)]
    public void Tokenizer_json_files_in_the_shapes_of_real_models_load(string shape, TokenizerKind kind)
    {
        var tokenizer = TextTokenizer.Load(Path.Combine(TokenizerFixtures.Shapes, shape, "tokenizer.json"), null, null);

        Assert.Equal(kind, tokenizer.Kind);
        Assert.NotEmpty(tokenizer.Encode(null, "the cat", 16));
    }

    [Fact]
    public void An_xlm_r_sentencepiece_model_alone_is_refused_with_the_reason()
    {
        using var directory = new TemporaryDirectory();
        var path = directory.Write("sentencepiece.bpe.model", "not read");

        var error = Assert.Throws<NotSupportedException>(() => TextTokenizer.Load(path, null, null));

        Assert.Contains("tokenizer.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Profiles_are_detected_by_folder_name_or_by_model_type_and_size()
    {
        Assert.Equal("Qwen/Qwen3-Embedding-0.6B", OnnxModelProfile.Detect(["/models/Qwen3-Embedding-0.6B/"], null, null)?.Name);
        Assert.Equal("google/embeddinggemma-300m", OnnxModelProfile.Detect(["my-model"], "gemma3_text", 768)?.Name);
        Assert.Null(OnnxModelProfile.Detect(["my-model"], "qwen3", null));
        Assert.Null(OnnxModelProfile.Detect([null], "bert", 384));
        Assert.Equal([1024, 512, 256, 128, 64, 32], OnnxModelProfile.Find("qwen3-embedding-0.6b")!.MatryoshkaDimensions);
    }

    [Fact]
    public void A_named_profile_fills_only_what_the_folder_leaves_open()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(TokenizerFixtures.Directory(TokenizerFixtures.Family("sentencepiece-unigram")),
            new() { Profile = "BAAI/bge-m3" });

        Assert.Equal("BAAI/bge-m3", generator.Description.Profile?.Name);
        Assert.Equal(OnnxPooling.Mean, generator.Description.Pooling);
        Assert.Equal("query: ", generator.Description.QueryPrompt);
        Assert.Throws<ArgumentException>(() => OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, new() { Profile = "no/such-model" }));
    }
}
