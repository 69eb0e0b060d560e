using System.Text.Json;

namespace Mrl.Adapters.Onnx;

/// <summary>Reads the loosely typed JSON files of a Hugging Face model folder: a missing or null property is null.</summary>
internal static class JsonReading
{
    /// <exception cref="InvalidDataException">The file is not JSON.</exception>
    public static JsonDocument ParseFile(string path, string what)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The {what} file '{path}' is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Parses the file when it exists; null when it does not.</summary>
    public static JsonDocument? ParseIfExists(string path, string what) => File.Exists(path) ? ParseFile(path, what) : null;

    public static JsonElement? Property(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : null;

    public static string? StringProperty(this JsonElement element, string name) =>
        element.Property(name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    public static int? IntProperty(this JsonElement element, string name) =>
        element.Property(name) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt32(out var number) ? number : null;

    /// <summary>An array of strings; null when missing, not an array, or holding anything but strings.</summary>
    public static IReadOnlyList<string>? StringArrayProperty(this JsonElement element, string name) =>
        element.Property(name) is { ValueKind: JsonValueKind.Array } array && array.EnumerateArray().All(item => item.ValueKind == JsonValueKind.String)
            ? [.. array.EnumerateArray().Select(item => item.GetString()!)]
            : null;

    public static bool? BoolProperty(this JsonElement element, string name) => element.Property(name) switch
    {
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => null,
    };

    /// <summary>A token named as a string, or as an object with a <c>content</c> (tokenizer_config.json's AddedToken form).</summary>
    public static string? TokenProperty(this JsonElement element, string name) => element.Property(name) switch
    {
        { ValueKind: JsonValueKind.String } text => text.GetString(),
        { ValueKind: JsonValueKind.Object } added => added.StringProperty("content"),
        _ => null,
    };
}
