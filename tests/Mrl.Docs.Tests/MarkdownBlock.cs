using System.Text.RegularExpressions;
using Mrl.Adapters.Testing;

namespace Mrl.Docs.Tests;

/// <summary>
/// One fenced code block of README.md or docs/*.md, with the <c>&lt;!-- docs-test ... --&gt;</c> notes written
/// just above its fence: <c>given: type name; type name</c> (what a C# snippet takes from the code around it),
/// <c>setup: name</c> (a database table the commands expect), <c>not run: reason</c>.
/// </summary>
internal sealed partial record MarkdownBlock(string File, int Line, string Language, string Text, IReadOnlyDictionary<string, string> Notes)
{
    public string Id => $"{File}:{Line}";

    public string? Note(string name) => Notes.TryGetValue(name, out var value) ? value : null;

    public static IReadOnlyList<MarkdownBlock> All { get; } = Load();

    public static IEnumerable<object[]> Ids(string language) =>
        All.Where(b => b.Language == language).Select(b => new object[] { b.Id });

    public static MarkdownBlock Find(string id) => All.Single(b => b.Id == id);

    private static List<MarkdownBlock> Load()
    {
        var root = TestRepository.Root;
        var files = new[] { "README.md" }
            .Concat(Directory.GetFiles(System.IO.Path.Combine(root, "docs"), "*.md").Select(f => "docs/" + System.IO.Path.GetFileName(f)).Order(StringComparer.Ordinal));
        var blocks = new List<MarkdownBlock>();
        foreach (var file in files)
        {
            var lines = System.IO.File.ReadAllLines(System.IO.Path.Combine(root, file));
            var notes = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < lines.Length; i++)
            {
                var note = NotePattern().Match(lines[i]);
                if (note.Success)
                {
                    notes[note.Groups[1].Value.Trim()] = note.Groups[2].Value.Trim();
                    continue;
                }

                var fence = FencePattern().Match(lines[i]);
                if (!fence.Success)
                {
                    if (lines[i].Trim().Length > 0)
                    {
                        notes.Clear();
                    }

                    continue;
                }

                var start = i;
                var body = new List<string>();
                for (i++; i < lines.Length && lines[i].TrimEnd() != "```"; i++)
                {
                    body.Add(lines[i]);
                }

                blocks.Add(new MarkdownBlock(file, start + 1, fence.Groups[1].Value, string.Join('\n', body) + "\n", new Dictionary<string, string>(notes)));
                notes.Clear();
            }
        }

        return blocks;
    }

    [GeneratedRegex(@"^<!--\s*docs-test\s+([a-z ]+):(.*?)-->\s*$")]
    private static partial Regex NotePattern();

    [GeneratedRegex(@"^```([a-z]*)\s*$")]
    private static partial Regex FencePattern();
}
