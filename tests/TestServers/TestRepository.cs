namespace Mrl.Adapters.Testing;

/// <summary>Where the repository's test data lives, found from the test assembly's folder.</summary>
public static class TestRepository
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The folder that holds <c>Mrl.Adapters.sln</c>.</summary>
    public static string Root => RootPath.Value;

    /// <summary>A fixture model's folder under <c>tests/fixtures/onnx</c>, e.g. <c>base</c> or <c>pooled</c>.</summary>
    public static string FixtureModel(string name) => Path.Combine(Root, "tests", "fixtures", "onnx", name);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Mrl.Adapters.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Mrl.Adapters.sln above {AppContext.BaseDirectory}: cannot find the repository's test data.");
    }
}
