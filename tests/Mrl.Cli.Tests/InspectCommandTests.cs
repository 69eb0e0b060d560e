using Mrl.Bench.Synthetic;

namespace Mrl.Cli.Tests;

public sealed class InspectCommandTests
{
    private static readonly string[] Small = ["inspect", "--sample", "3000", "--queries", "50", "--dims", "96", "--prefix", "16", "--oversampling", "1,2,4,8,16"];

    [Fact]
    public async Task Inspect_recommends_truncation_on_MRL_like_data()
    {
        var (exitCode, output) = await CliRunner.RunAsync(Small);

        Assert.True(exitCode == 0, output);
        Assert.Contains("truncate p=16", output, StringComparison.Ordinal);
        Assert.Contains("projection p=16", output, StringComparison.Ordinal);
        Assert.Contains("Recommended: truncation.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_recommends_projection_on_rotated_data()
    {
        var (exitCode, output) = await CliRunner.RunAsync([.. Small, "--rotate"]);

        Assert.True(exitCode == 0, output);
        Assert.Contains("Recommended: projection (mrl fit-projection --prefix 16).", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_recommends_the_full_vector_when_no_short_key_finds_the_neighbours()
    {
        var (exitCode, output) = await CliRunner.RunAsync([.. Small, "--spectrum", "Flat"]);

        Assert.True(exitCode == 0, output);
        Assert.Contains("the model keeps its information in no short key; index the full vector", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_prints_a_table_that_fits_80_columns()
    {
        var (exitCode, output) = await CliRunner.RunAsync([.. Small, "--rotate"]);

        Assert.True(exitCode == 0, output);
        var table = output.Split('\n').Where(line => line.Contains('│', StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(table);
        Assert.All(table, line => Assert.True(line.TrimEnd().Length <= 80, line));
    }

    [Fact]
    public async Task Inspect_holds_queries_out_of_a_base_file_and_recommends_projection_on_rotated_vectors()
    {
        const int rows = 3000, dims = 96;
        var values = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = dims, Rotated = true }).Generate(rows);
        var path = Path.Combine(Path.GetTempPath(), $"mrl-inspect-{Guid.NewGuid():N}.fvecs");
        try
        {
            using (var writer = new BinaryWriter(File.Create(path)))
            {
                for (var i = 0; i < rows; i++)
                {
                    writer.Write(dims);
                    foreach (var value in values.AsSpan(i * dims, dims))
                    {
                        writer.Write(value);
                    }
                }
            }

            var (exitCode, output) = await CliRunner.RunAsync("inspect", "--base", path, "--queries", "50", "--prefix", "16");

            Assert.True(exitCode == 0, output);
            Assert.Contains("2,950 x 96, 50 queries held out from it", output, StringComparison.Ordinal);
            Assert.Contains("Recommended: projection", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Inspect_refuses_a_prefix_as_long_as_the_vectors()
    {
        var (exitCode, output) = await CliRunner.RunAsync("inspect", "--sample", "500", "--queries", "10", "--dims", "32", "--prefix", "32");

        Assert.Equal(1, exitCode);
        Assert.Contains("--prefix 32: a key must be shorter than the 32 full dimensions", output, StringComparison.Ordinal);
    }
}
