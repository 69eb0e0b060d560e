using System.Text.Json;

namespace Mrl.Adapters.Onnx.Benchmarks;

/// <summary>The test fixture model and sentences under tests/fixtures/onnx.</summary>
internal static class FixtureModel
{
    public static string Directory { get; } = Find();

    /// <summary>The fixture sentences, repeated in order until there are <paramref name="count"/>.</summary>
    public static string[] Sentences(int count)
    {
        using var references = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Directory, "..", "references.json")));
        var sentences = references.RootElement.GetProperty("sentences").EnumerateArray().Select(s => s.GetProperty("text").GetString()!).ToArray();
        return Enumerable.Range(0, count).Select(i => sentences[i % sentences.Length]).ToArray();
    }

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Mrl.Adapters.sln")))
            {
                return Path.Combine(directory.FullName, "tests", "fixtures", "onnx", "base");
            }
        }

        throw new InvalidOperationException($"No Mrl.Adapters.sln above {AppContext.BaseDirectory}: cannot find tests/fixtures/onnx.");
    }
}
