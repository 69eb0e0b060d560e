using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Mrl.Adapters.Onnx;

namespace Mrl.Cli.Commands;

/// <summary>
/// What embedded an index's documents, as <c>mrl index</c> records it (snapshot metadata, or the comment of a table's prefix
/// column) and <c>mrl search</c> compares with the model it embeds the query with: vectors of two models are not comparable,
/// and neither are one model's vectors under another pooling or prompt.
/// </summary>
internal sealed record IndexedModel(
    string Id, string Fingerprint, int Dimensions, string Pooling, bool LayerNorm, string? QueryPrompt, string? DocumentPrompt, string? QueryTask, string? DocumentTask)
{
    private const string IdKey = "mrl.model";
    private const string FingerprintKey = "mrl.model.fingerprint";
    private const string DimensionsKey = "mrl.model.dimensions";
    private const string PoolingKey = "mrl.pooling";
    private const string LayerNormKey = "mrl.layer_norm";
    private const string QueryPromptKey = "mrl.query_prompt";
    private const string DocumentPromptKey = "mrl.document_prompt";
    private const string QueryTaskKey = "mrl.query_task";
    private const string DocumentTaskKey = "mrl.document_task";

    // The fingerprint's scheme is part of its value, so that a later scheme is never compared with this one.
    private const string FingerprintScheme = "sha256-sampled-v1:";
    private const int SampleBytes = 1 << 20;

    public static IndexedModel Of(OnnxEmbeddingGenerator generator)
    {
        var d = generator.Description;
        return new IndexedModel(generator.ModelId, ComputeFingerprint(d.ModelPath, d.TokenizerPath), d.ModelDimensions, d.Pooling.ToString(), d.LayerNormBeforeTruncation,
            d.QueryPrompt, d.DocumentPrompt, d.QueryTask, d.DocumentTask);
    }

    /// <summary>The model recorded in <paramref name="metadata"/>, or null when it records none (an index made before models were recorded).</summary>
    public static IndexedModel? From(IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(IdKey, out var id))
        {
            return null;
        }

        string? Get(string key) => metadata.TryGetValue(key, out var value) ? value : null;
        return new IndexedModel(id, Get(FingerprintKey) ?? "", int.TryParse(Get(DimensionsKey), CultureInfo.InvariantCulture, out var dimensions) ? dimensions : 0,
            Get(PoolingKey) ?? "", Get(LayerNormKey) == "true", Get(QueryPromptKey), Get(DocumentPromptKey), Get(QueryTaskKey), Get(DocumentTaskKey));
    }

    /// <summary>The model recorded as the JSON object <see cref="ToJson"/> wrote, or null for null or other text.</summary>
    public static IndexedModel? FromJson(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(json) is { } metadata ? From(metadata) : null;
        }
        catch (JsonException)
        {
            // A comment edited by hand: the same as no record, which search reports as "cannot check".
            return null;
        }
    }

    public IReadOnlyDictionary<string, string> ToMetadata()
    {
        var metadata = new Dictionary<string, string>
        {
            [IdKey] = Id,
            [FingerprintKey] = Fingerprint,
            [DimensionsKey] = Dimensions.ToString(CultureInfo.InvariantCulture),
            [PoolingKey] = Pooling,
            [LayerNormKey] = LayerNorm ? "true" : "false",
        };
        void Add(string key, string? value)
        {
            if (value is not null)
            {
                metadata[key] = value;
            }
        }

        Add(QueryPromptKey, QueryPrompt);
        Add(DocumentPromptKey, DocumentPrompt);
        Add(QueryTaskKey, QueryTask);
        Add(DocumentTaskKey, DocumentTask);
        return metadata;
    }

    public string ToJson() => JsonSerializer.Serialize(ToMetadata());

    /// <summary>
    /// The warnings for a run that embeds with <paramref name="search"/> over documents embedded with this model:
    /// empty when the two embed alike.
    /// </summary>
    public IReadOnlyList<string> Compare(IndexedModel search)
    {
        var warnings = new List<string>();
        if (Id != search.Id || (Fingerprint.Length > 0 && Fingerprint != search.Fingerprint))
        {
            warnings.Add($"the index was built with the model '{Id}' ({Short(Fingerprint)}) but this run embeds with '{search.Id}' ({Short(search.Fingerprint)}): " +
                "scores between vectors of different models mean nothing. Search with the index's model, or re-run `mrl index` with this one.");
            return warnings;
        }

        void Check(string what, object? indexed, object? searched)
        {
            if (!Equals(indexed, searched))
            {
                warnings.Add($"the index's documents were embedded with {what} {Show(indexed)}, this run uses {Show(searched)}: results may be worse than they should be.");
            }
        }

        if (Dimensions > 0)
        {
            Check("model dimensions", Dimensions, search.Dimensions);
        }

        Check("pooling", Pooling, search.Pooling);
        Check("layer norm", LayerNorm, search.LayerNorm);
        Check("query prompt", QueryPrompt, search.QueryPrompt);
        Check("query task", QueryTask, search.QueryTask);
        return warnings;
    }

    private static string Short(string fingerprint) =>
        fingerprint.StartsWith(FingerprintScheme, StringComparison.Ordinal) ? "fingerprint " + fingerprint[FingerprintScheme.Length..][..12] : "no fingerprint";

    private static string Show(object? value) => value switch
    {
        null => "none",
        string s => JsonSerializer.Serialize(s),
        bool b => b ? "on" : "off",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>
    /// SHA-256 over the model file's length, its first and last MiB, the same for each external-data file next to it
    /// (<c>model.onnx_data</c>, <c>model.onnx.data</c>), and the whole tokenizer file.
    /// </summary>
    /// <remarks>
    /// Sampled rather than whole: search computes it on every run, and hashing a multi-gigabyte model would cost seconds
    /// each time, while a cache would need a writable place that a container or a read-only home may not have. Another
    /// export, quantization or fine-tune changes the length, the graph at the start or the weights at the end; a change
    /// confined to the middle of a file of the same length goes unnoticed, which the model's name still catches when it differs.
    /// </remarks>
    internal static string ComputeFingerprint(string modelPath, string tokenizerPath)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Sample(hash, modelPath);
        var directory = Path.GetDirectoryName(modelPath)!;
        var name = Path.GetFileName(modelPath);
        foreach (var data in Directory.EnumerateFiles(directory, name + "*").Where(f => Path.GetFileName(f) != name).Order(StringComparer.Ordinal))
        {
            Sample(hash, data);
        }

        hash.AppendData(File.ReadAllBytes(tokenizerPath));
        return FingerprintScheme + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void Sample(IncrementalHash hash, string path)
    {
        using var file = File.OpenHandle(path);
        var length = RandomAccess.GetLength(file);
        Span<byte> size = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(size, length);
        hash.AppendData(size);

        var buffer = new byte[(int)Math.Min(length, SampleBytes)];
        hash.AppendData(buffer.AsSpan(0, RandomAccess.Read(file, buffer, 0)));
        if (length > SampleBytes)
        {
            hash.AppendData(buffer.AsSpan(0, RandomAccess.Read(file, buffer, Math.Max(SampleBytes, length - SampleBytes))));
        }
    }
}
