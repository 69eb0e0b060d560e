using Mrl.Adapters.Testing;

namespace Mrl.Adapters.Qdrant.Tests.Support;

/// <summary>
/// Qdrant's OpenAPI documents in <c>../shared/qdrant/</c> beside the repository root (the folder with Mrl.Adapters.sln).
/// A clone without them skips the contract tests with the reason; a CI run (<c>CI=true</c>) fails instead.
/// </summary>
internal static class QdrantSpecs
{
    private static readonly Lazy<string?> Folder = new(Locate);
    private static readonly Dictionary<string, Lazy<OpenApiSpec>> Specs = new(StringComparer.Ordinal)
    {
        ["1.17"] = new(() => OpenApiSpec.Load(PathOf("1.17"))),
        ["1.18"] = new(() => OpenApiSpec.Load(PathOf("1.18"))),
        ["1.19"] = new(() => OpenApiSpec.Load(PathOf("1.19"))),
    };

    /// <summary>The spec of a Qdrant minor version ("1.17", "1.18", "1.19"); skips (or fails in CI) when the folder is absent.</summary>
    public static OpenApiSpec Get(string version)
    {
        Require();
        return Specs[version].Value;
    }

    /// <summary>
    /// The spec when present, for tests whose main subject is something else (a request flow) and that check the spec on
    /// the side: null when absent, so that they still run in a clone without it; fails when <c>CI=true</c>.
    /// </summary>
    public static OpenApiSpec? TryGet(string version)
    {
        if (Folder.Value is null)
        {
            Assert.False(TestEnvironment.IsCi, "Qdrant's OpenAPI specs were not found beside the repository, and CI=true, where they must be present.");
            return null;
        }

        return Specs[version].Value;
    }

    /// <summary>Skips the test with the reason when the specs are absent, or fails it when <c>CI=true</c>.</summary>
    public static void Require()
    {
        if (Folder.Value is not null)
        {
            return;
        }

        var reason = "Qdrant's OpenAPI specs were not found: expected ../shared/qdrant/openapi-1.19.json beside the folder that holds " +
                     $"Mrl.Adapters.sln, searching up from {AppContext.BaseDirectory}.";
        if (TestEnvironment.IsCi)
        {
            Assert.Fail(reason + " CI=true, where they must be present.");
        }

        Skip.If(true, reason);
    }

    private static string PathOf(string version) => System.IO.Path.Combine(Folder.Value!, $"openapi-{version}.json");

    private static string? Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Mrl.Adapters.sln")))
            {
                var specs = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir.FullName, "..", "shared", "qdrant"));
                return File.Exists(System.IO.Path.Combine(specs, "openapi-1.19.json")) ? specs : null;
            }
        }

        return null;
    }
}
