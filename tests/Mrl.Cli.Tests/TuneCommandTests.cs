using Mrl.Adapters;
using Mrl.Adapters.Testing;

namespace Mrl.Cli.Tests;

public sealed class TuneCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mrl-tune-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string FixtureModel() => TestRepository.FixtureModel("base");

    [Fact]
    public async Task Tune_on_memory_writes_a_profile_that_meets_a_reachable_target()
    {
        var path = Path.Combine(_directory, "profile.json");
        var (exitCode, output) = await CliRunner.RunAsync(
            "tune", "--target-recall", "0.95", "--count", "3000", "--dims", "128", "--queries", "60", "--sample", "60", "--prefix-dims", "16,32",
            "--oversampling", "2,4,8", "--truth-cache", Path.Combine(_directory, "truth"), "--out", path);

        Assert.True(exitCode == 0, output);
        var profile = SearchProfile.Load(path);
        Assert.True(profile.MeasuredRecall >= 0.95, output);
        Assert.Equal(("memory", 128, 0.95), (profile.Backend, profile.FullDimensions, profile.TargetRecall));
        Assert.True(profile.Strategy == SearchStrategy.FullDimension || profile.PrefixDimensions is 16 or 32, output);
        Assert.Contains("Cheapest at recall@10 >= 0.95:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Search_with_a_profile_uses_its_oversampling_and_refuses_one_for_another_layout()
    {
        var model = FixtureModel();
        var input = Path.Combine(_directory, "docs.jsonl");
        await File.WriteAllLinesAsync(input,
        [
            """{"id": "cat", "text": "The cat sat on the mat."}""",
            """{"id": "dog", "text": "A dog barked at the mailman."}""",
            """{"id": "sky", "text": "The sky is blue today."}""",
        ]);
        var store = Path.Combine(_directory, "index.bin");
        var (indexed, indexOutput) = await CliRunner.RunAsync("index", "--model", model, "--input", input, "--prefix", "16", "--store", store);
        Assert.True(indexed == 0, indexOutput);

        var matching = Path.Combine(_directory, "matching.json");
        new SearchProfile { FullDimensions = 64, PrefixDimensions = 16, Oversampling = 1 }.Save(matching);
        var other = Path.Combine(_directory, "other.json");
        new SearchProfile { FullDimensions = 64, PrefixDimensions = 8 }.Save(other);

        var (searched, output) = await CliRunner.RunAsync("search", "--model", model, "A dog barked at the mailman.", "--k", "2", "--store", store, "--profile", matching);
        var (refused, refusal) = await CliRunner.RunAsync("search", "--model", model, "A dog barked at the mailman.", "--store", store, "--profile", other);

        Assert.True(searched == 0, output);
        Assert.Contains("two-pass: 2 candidates", output, StringComparison.Ordinal);
        Assert.Equal(1, refused);
        Assert.Contains("The profile was tuned for Cosine 64d, prefix 8d; this index is Cosine 64d, prefix 16d", refusal, StringComparison.Ordinal);
    }
}
