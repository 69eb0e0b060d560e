using System.Text.Json.Nodes;

namespace Mrl.Adapters.Onnx.Tests;

public sealed class TokenizerTests
{
    private static readonly TextTokenizer FromVocabulary = TextTokenizer.Load(Fixtures.Vocabulary, lowerCase: null, stripAccents: null);
    private static readonly TextTokenizer FromJson = TextTokenizer.Load(Fixtures.TokenizerJson, lowerCase: null, stripAccents: null);

    public static TheoryData<string> Texts()
    {
        var data = new TheoryData<string>();
        foreach (var text in Fixtures.References.Sentences.Select(s => s.Text).Concat(Fixtures.References.TokenizerOnly.Select(t => t.Text)))
        {
            data.Add(text);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void Token_ids_from_vocab_txt_match_the_script(string text)
    {
        Assert.Equal(ExpectedIds(text), FromVocabulary.Encode(null, text, 512));
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void Token_ids_from_tokenizer_json_match_the_script(string text)
    {
        Assert.Equal(ExpectedIds(text), FromJson.Encode(null, text, 512));
    }

    [Fact]
    public void Truncated_ids_keep_cls_and_sep_around_the_first_tokens()
    {
        var max = Fixtures.References.TruncatedMaxSequenceLength;
        foreach (var sentence in Fixtures.References.Sentences)
        {
            Assert.Equal(sentence.IdsTruncated, FromVocabulary.Encode(null, sentence.Text, max));
        }
    }

    [Fact]
    public void Truncation_of_a_long_text_cuts_mid_word_like_the_full_tokenization()
    {
        // Words of many pieces ("matryoshka" is four, "newlines" five) and unknown words, repeated far past any limit.
        var text = string.Join(" ", Enumerable.Repeat("Matryoshka embeddings: zyxwvut newlines tokenization, smaller!", 200));
        var full = FromVocabulary.Encode(null, text, int.MaxValue);
        Assert.True(full.Length > 2000);

        foreach (var max in Enumerable.Range(3, 60).Concat([510, 511, 512, 513, 1000, 1001]))
        {
            var truncated = FromVocabulary.Encode(null, text, max);
            Assert.Equal(max, truncated.Length);
            Assert.Equal(full[..(max - 1)], truncated[..^1]);
            Assert.Equal(full[^1], truncated[^1]);
        }
    }

    [Fact]
    public void A_prefix_is_tokenized_as_part_of_the_text_and_counts_toward_the_limit()
    {
        var joined = FromVocabulary.Encode(null, "search_query: the cat sat", 512);
        var prefixed = FromVocabulary.Encode("search_query: ", "the cat sat", 512);
        var truncated = FromVocabulary.Encode("search_query: ", "the cat sat", 6);

        Assert.Equal(joined, prefixed);
        Assert.Equal(joined[..5], truncated[..5]);
        Assert.Equal(6, truncated.Length);
    }

    [Fact]
    public void Batch_input_ids_are_the_token_ids_padded_on_the_right_with_a_matching_attention_mask()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base);
        var sentences = Fixtures.References.Sentences;

        using var batch = generator.Tokenize(sentences.Select(s => s.Text).ToList(), 0, sentences.Length, prefix: null);

        Assert.Equal(sentences.Max(s => s.Ids.Length), batch.SequenceLength);
        Assert.Equal(3, batch.Inputs.Count);
        for (var row = 0; row < sentences.Length; row++)
        {
            var ids = batch.InputIds(row).ToArray();
            var expected = sentences[row].Ids;
            Assert.Equal(expected.Select(id => (long)id), ids[..expected.Length]);
            Assert.All(ids[expected.Length..], id => Assert.Equal(generator.Tokenizer.PaddingTokenId, id));
            Assert.Equal(expected.Length, batch.Lengths[row]);
        }

        var mask = batch.Inputs[1].GetTensorDataAsSpan<long>().ToArray();
        for (var row = 0; row < sentences.Length; row++)
        {
            var rowMask = mask.AsSpan(row * batch.SequenceLength, batch.SequenceLength).ToArray();
            Assert.Equal(Enumerable.Range(0, batch.SequenceLength).Select(i => i < sentences[row].Ids.Length ? 1L : 0L), rowMask);
        }

        Assert.All(batch.Inputs[2].GetTensorDataAsSpan<long>().ToArray(), typeId => Assert.Equal(0L, typeId));
    }

    [Fact]
    public void Lower_casing_can_be_turned_off()
    {
        var cased = TextTokenizer.Load(Fixtures.Vocabulary, lowerCase: false, stripAccents: null);

        // The vocabulary is lower case: upper-case words are unknown to a cased tokenizer.
        Assert.Equal([2, 1, 1, 3], cased.Encode(null, "HELLO World", 512));
        Assert.Equal(ExpectedIds("HELLO World"), FromVocabulary.Encode(null, "HELLO World", 512));
    }

    [Fact]
    public void Tokenizer_json_lowercase_setting_is_honoured_and_options_override_it()
    {
        using var directory = new TemporaryDirectory();
        var json = JsonNode.Parse(File.ReadAllText(Fixtures.TokenizerJson))!;
        json["normalizer"]!["lowercase"] = false;
        var path = directory.Write("tokenizer.json", json.ToJsonString());

        Assert.Equal([2, 1, 1, 3], TextTokenizer.Load(path, lowerCase: null, stripAccents: null).Encode(null, "HELLO World", 512));
        Assert.Equal(ExpectedIds("HELLO World"), TextTokenizer.Load(path, lowerCase: true, stripAccents: null).Encode(null, "HELLO World", 512));
    }

    [Fact]
    public void Tokenizer_json_with_a_sentencepiece_style_bpe_model_and_no_tokenizer_model_is_not_supported()
    {
        using var directory = new TemporaryDirectory();
        var path = directory.Write("tokenizer.json", """{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}""");

        var error = Assert.Throws<NotSupportedException>(() => TextTokenizer.Load(path, null, null));
        Assert.Contains("BPE", error.Message, StringComparison.Ordinal);
        Assert.Contains("tokenizer.model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tokenizer_json_with_another_normalizer_is_not_supported()
    {
        using var directory = new TemporaryDirectory();
        var json = JsonNode.Parse(File.ReadAllText(Fixtures.TokenizerJson))!;
        json["normalizer"] = JsonNode.Parse("""{"type": "Sequence", "normalizers": []}""");
        var path = directory.Write("tokenizer.json", json.ToJsonString());

        var error = Assert.Throws<NotSupportedException>(() => TextTokenizer.Load(path, null, null));
        Assert.Contains("Sequence", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tokenizer_json_that_is_not_json_is_reported_as_invalid_data()
    {
        using var directory = new TemporaryDirectory();
        var path = directory.Write("tokenizer.json", "{ not json");

        Assert.Throws<InvalidDataException>(() => TextTokenizer.Load(path, null, null));
    }

    [Fact]
    public void Tabs_and_new_lines_separate_words_and_format_characters_are_dropped()
    {
        var destination = new char[64];
        var written = BertTextCleaner.Clean("one\ttwo\r\nthree ca\u00ADt", destination);

        Assert.Equal("one two  three cat", new string(destination, 0, written));
    }

    private static int[] ExpectedIds(string text) =>
        Fixtures.References.Sentences.Where(s => s.Text == text).Select(s => s.Ids)
            .Concat(Fixtures.References.TokenizerOnly.Where(t => t.Text == text).Select(t => t.Ids))
            .First();
}
