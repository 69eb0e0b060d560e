using System.Globalization;
using System.Text.Json;
using Mrl.Adapters;
using Mrl.Adapters.Testing;
using Mrl.Bench;
using Mrl.Cli.Bench;
using Mrl.Cli.Commands;
using Npgsql;

namespace Mrl.Cli.Tests;

public sealed class BenchCommandTests : IClassFixture<PostgresFixture>, IClassFixture<QdrantFixture>, IDisposable
{
    private static readonly string[] Fields =
        ["backend", "strategy", "prefixDims", "oversampling", "efSearch", "k", "recall", "qps", "clients", "p50Ms", "p95Ms", "p99Ms", "buildSeconds", "indexBytes", "bytesPerQuery", "n", "dims",
         "rounds", "qpsMin", "qpsMax", "p50MsMin", "p50MsMax", "recallMin", "recallMax", "dbCpuMsPerQuery", "dbCpuMsPerQueryMin", "dbCpuMsPerQueryMax"];

    private readonly PostgresFixture _postgres;
    private readonly QdrantFixture _qdrant;
    private readonly string _directory = Directory.CreateTempSubdirectory("mrl-bench-").FullName;

    public BenchCommandTests(PostgresFixture postgres, QdrantFixture qdrant)
    {
        _postgres = postgres;
        _qdrant = qdrant;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Folder(string name) => Path.Combine(_directory, name);

    private static JsonElement[] Results(string folder)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "results.json")));
        return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    private static JsonElement Run(string folder)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "run.json")));
        return document.RootElement.Clone();
    }

    private static IEnumerable<JsonElement> Rows(JsonElement[] results, string strategy, int clients = 1) =>
        results.Where(r => r.GetProperty("strategy").GetString() == strategy && r.GetProperty("clients").GetInt32() == clients);

    private static double Recall(JsonElement[] results, string strategy, int prefix, int oversampling) =>
        Rows(results, strategy).Single(r => r.GetProperty("prefixDims").GetInt32() == prefix && r.GetProperty("oversampling").GetInt32() == oversampling)
            .GetProperty("recall").GetDouble();

    [Fact]
    public async Task Bench_on_memory_writes_results_json_markdown_and_a_plot()
    {
        var output = Folder("out");
        var (exitCode, text) = await CliRunner.RunAsync(
            "bench", "--count", "3000", "--dims", "128", "--queries", "40", "--prefix-dims", "16,32", "--oversampling", "2,8", "--clients", "2",
            "--bandwidth-mib", "64", "--truth-cache", Folder("truth"), "--out", output);

        Assert.True(exitCode == 0, text);
        var results = Results(output);
        Assert.All(results, r => Assert.Equal(Fields, r.EnumerateObject().Select(p => p.Name)));
        Assert.Equal(2 * (1 + 2 + 4), results.Length);
        Assert.Equal(["full", "prefix", "two-pass"], results.Select(r => r.GetProperty("strategy").GetString()).Distinct().Order());
        Assert.All(results, r => Assert.True(r.GetProperty("qps").GetDouble() > 0 && r.GetProperty("n").GetInt32() == 3000 && r.GetProperty("dims").GetInt32() == 128));
        Assert.All(Rows(results, "full"), r => Assert.Equal(1.0, r.GetProperty("recall").GetDouble()));
        Assert.True(Recall(results, "two-pass", 32, 8) > Recall(results, "prefix", 32, 1), text);
        Assert.All(Rows(results, "two-pass"), r => Assert.Equal(10 * r.GetProperty("oversampling").GetInt32() * 128 * 4, r.GetProperty("bytesPerQuery").GetDouble()));

        var png = await File.ReadAllBytesAsync(Path.Combine(output, "recall-vs-qps.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        var markdown = await File.ReadAllTextAsync(Path.Combine(output, "results.md"));
        Assert.Contains("| backend | strategy | prefix dims | oversampling | ef_search | clients | recall@10 |", markdown, StringComparison.Ordinal);
        Assert.Contains("memory bandwidth:", markdown, StringComparison.Ordinal);
        Assert.Contains("memory: pass 1 scan rate at prefix 16:", markdown, StringComparison.Ordinal);
        Assert.Contains("![recall vs QPS](recall-vs-qps.png)", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_reads_fvecs_and_npy_files_checks_a_truth_file_and_caches_computed_truth()
    {
        var random = new Random(7);
        float[] Unit(int rows, int d)
        {
            var values = new float[rows * d];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = (float)(random.NextDouble() - 0.5);
            }

            for (var row = 0; row < rows; row++)
            {
                VectorMath.TryNormalize(values.AsSpan(row * d, d));
            }

            return values;
        }

        const int n = 500, q = 20, d = 24;
        var baseVectors = Unit(n, d);
        var queries = Unit(q, d);
        await File.WriteAllBytesAsync(Folder("base.fvecs"), Enumerable.Range(0, n)
            .SelectMany(row => BitConverter.GetBytes(d).Concat(baseVectors.AsSpan(row * d, d).ToArray().SelectMany(BitConverter.GetBytes))).ToArray());
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + q.ToString(CultureInfo.InvariantCulture) + ", " + d.ToString(CultureInfo.InvariantCulture) + "), }";
        header = header.PadRight(64 - 10 - 1) + "\n";
        await File.WriteAllBytesAsync(Folder("queries.npy"), new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0 }
            .Concat(System.Text.Encoding.ASCII.GetBytes(header)).Concat(queries.SelectMany(BitConverter.GetBytes)).ToArray());
        var truth = Enumerable.Range(0, q).Select(i => ExactKnn.Search(baseVectors, n, d, queries.AsMemory(i * d, d), 10, DistanceMetric.Cosine).Select(h => h.Index).ToArray()).ToArray();
        TexmexFormat.WriteIvecs(Folder("truth.ivecs"), new VectorMatrix<int>(truth.SelectMany(t => t).ToArray(), q, 10));

        string[] common = ["bench", "--base", Folder("base.fvecs"), "--queries", Folder("queries.npy"), "--strategies", "full,two-pass", "--prefix-dims", "8",
            "--oversampling", "4", "--clients", "1", "--bandwidth-mib", "0", "--truth-cache", Folder("truth-cache")];
        var (given, givenText) = await CliRunner.RunAsync([.. common, "--truth", Folder("truth.ivecs"), "--out", Folder("given")]);
        var (first, firstText) = await CliRunner.RunAsync([.. common, "--out", Folder("first")]);
        var (second, secondText) = await CliRunner.RunAsync([.. common, "--out", Folder("second")]);

        Assert.True(given == 0 && first == 0 && second == 0, givenText + firstText + secondText);
        Assert.Equal("truth file", Run(Folder("given")).GetProperty("data").GetProperty("truth").GetString());
        Assert.StartsWith("computed exactly, cached in", Run(Folder("first")).GetProperty("data").GetProperty("truth").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("cache ", Run(Folder("second")).GetProperty("data").GetProperty("truth").GetString(), StringComparison.Ordinal);
        foreach (var folder in new[] { "given", "first", "second" })
        {
            var results = Results(Folder(folder));
            Assert.All(Rows(results, "full"), r => Assert.Equal(1.0, r.GetProperty("recall").GetDouble()));
            Assert.All(results, r => Assert.Equal((n, d), (r.GetProperty("n").GetInt32(), r.GetProperty("dims").GetInt32())));
        }
    }

    [Theory]
    [InlineData("--connection=Host=db;Username=app;Password=hunter2", "--api-key:k3y-s3cret")]
    [InlineData("--connection:Host=db;Username=app;Pwd=hunter2", "--api-key=k3y-s3cret")]
    [InlineData("-c", "Host=db;Username=app;SSL Password=hunter2;Password=hunter2")]
    public void The_reported_command_line_hides_passwords_and_api_keys_in_every_option_form(string first, string second)
    {
        string[] arguments = second.StartsWith('-') ? [first, second] : [first, second, "--api-key", "k3y-s3cret"];
        var parse = BenchCommand.Create().Parse([.. arguments, "--url", "http://admin:hunter2@qdrant:6333", "--count", "300"]);

        var shown = BenchOptions.CommandLine(parse);

        Assert.Empty(parse.Errors);
        Assert.DoesNotContain("hunter2", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("k3y-s3cret", shown, StringComparison.Ordinal);
        Assert.StartsWith("mrl bench --connection 'host=db;username=app;", shown, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("--api-key \"$QDRANT_API_KEY\"", shown, StringComparison.Ordinal);
        Assert.Contains("--url 'http://***@qdrant:6333/'", shown, StringComparison.Ordinal);
        Assert.Contains("--count 300", shown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_reports_leave_out_a_password_given_as_connection_equals()
    {
        var output = Folder("redacted");
        var (exitCode, text) = await CliRunner.RunAsync(
            "bench", "--count", "300", "--dims", "16", "--queries", "5", "--prefix-dims", "8", "--oversampling", "2", "--clients", "1", "--strategies", "full",
            "--bandwidth-mib", "0", "--truth-cache", "none", "--connection=Host=db;Password=hunter2", "--api-key:k3y-s3cret", "--out", output);

        Assert.True(exitCode == 0, text);
        foreach (var file in new[] { "run.json", "results.md" })
        {
            var written = await File.ReadAllTextAsync(Path.Combine(output, file));
            Assert.Contains("--count 300", written, StringComparison.Ordinal);
            Assert.DoesNotContain("hunter2", written, StringComparison.Ordinal);
            Assert.DoesNotContain("k3y-s3cret", written, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Bench_with_an_unknown_strategy_or_a_missing_connection_fails_with_one_line()
    {
        var (strategyExit, strategyOutput) = await CliRunner.RunAsync("bench", "--strategies", "full,bogus");
        var (connectionExit, connectionOutput) = await CliRunner.RunAsync("bench", "--backend", "postgres");
        var (urlExit, urlOutput) = await CliRunner.RunAsync("bench", "--backend", "memory,qdrant");

        Assert.Equal((1, 1, 1), (strategyExit, connectionExit, urlExit));
        Assert.Contains("error: --strategies: unknown strategy 'bogus'", strategyOutput, StringComparison.Ordinal);
        Assert.Contains("error: --backend postgres needs --connection", connectionOutput, StringComparison.Ordinal);
        Assert.Contains("error: --backend qdrant needs --url", urlOutput, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Bench_on_postgres_builds_each_index_once_measures_every_strategy_and_drops_its_table()
    {
        _postgres.RequireServer();
        var table = _postgres.NewTableName("bench");
        var output = Folder("pg");
        var (exitCode, text) = await CliRunner.RunAsync(
            "bench", "--backend", "postgres", "--connection", _postgres.ConnectionString, "--table", table, "--count", "1500", "--dims", "64",
            "--queries", "30", "--prefix-dims", "16,32", "--oversampling", "2,4", "--ef-search", "40", "--clients", "2", "--parallel-workers", "1", "--maintenance-work-mem", "256MB",
            "--rounds", "2", "--full-m", "8", "--full-ef-construction", "40",
            "--truth-cache", Folder("truth"), "--out", output);

        Assert.True(exitCode == 0, text);
        var results = Results(output);
        Assert.Equal(BenchStrategy.All.Order(), results.Select(r => r.GetProperty("strategy").GetString()).Distinct().Order());
        Assert.All(Rows(results, "full"), r => Assert.True(r.GetProperty("recall").GetDouble() >= 0.9, text));
        Assert.All(results, r => Assert.Equal(2, r.GetProperty("rounds").GetInt32()));
        Assert.All(results, r => Assert.True(r.GetProperty("qpsMin").GetDouble() <= r.GetProperty("qps").GetDouble() && r.GetProperty("qps").GetDouble() <= r.GetProperty("qpsMax").GetDouble()));
        Assert.Contains("full and bq-rerank HNSW m=8, ef_construction=40", Run(output).GetProperty("backends").GetProperty("postgres").GetString(), StringComparison.Ordinal);
        Assert.All(Rows(results, "two-pass"), r => Assert.Equal(10 * r.GetProperty("oversampling").GetInt32() * 64 * 4, r.GetProperty("bytesPerQuery").GetDouble()));
        Assert.All(Rows(results, "two-pass-cached-warm"), r => Assert.Equal(0, r.GetProperty("bytesPerQuery").GetDouble()));
        Assert.All(Rows(results, "two-pass-cached-cold"), r => Assert.True(r.GetProperty("bytesPerQuery").GetDouble() > 0));

        var builds = Run(output).GetProperty("builds").EnumerateArray().ToArray();
        Assert.Equal([16, 32, 0, 0], builds.Select(b => b.GetProperty("prefixDims").ValueKind == JsonValueKind.Null ? 0 : b.GetProperty("prefixDims").GetInt32()));
        Assert.Equal([null, null, null, "bq-rerank"], builds.Select(b => b.GetProperty("strategy").GetString()));
        Assert.All(builds, b => Assert.True(b.GetProperty("bytes").GetInt64() > 0 && b.GetProperty("seconds").GetDouble() > 0));
        Assert.All(builds, b => Assert.Equal(1, b.GetProperty("workersPlanned").GetInt32()));

        await using var command = _postgres.DataSource.CreateCommand("SELECT to_regclass($1) IS NULL");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
        Assert.True((bool)(await command.ExecuteScalarAsync())!);
    }

    [SkippableFact]
    public async Task Bench_on_qdrant_runs_every_strategy_it_has_and_deletes_its_collections()
    {
        _qdrant.RequireServer();
        var collection = "mrl_bench_" + Guid.NewGuid().ToString("N")[..8];
        var output = Folder("qdrant");
        string[] arguments = ["bench", "--backend", "qdrant", "--url", _qdrant.GrpcEndpoint!.ToString(), "--collection", collection, "--count", "1500",
            "--dims", "64", "--queries", "20", "--prefix-dims", "16", "--oversampling", "2,4", "--ef-search", "40", "--clients", "2",
            "--truth-cache", Folder("truth"), "--out", output];
        var (exitCode, text) = await CliRunner.RunAsync(_qdrant.ApiKey is { } key ? [.. arguments, "--api-key", key] : arguments);

        Assert.True(exitCode == 0, text);
        var results = Results(output);
        Assert.Equal(BenchStrategy.All.Where(s => s != BenchStrategy.BqRerank).Order(), results.Select(r => r.GetProperty("strategy").GetString()).Distinct().Order());
        Assert.All(Rows(results, "full"), r => Assert.Equal(1.0, r.GetProperty("recall").GetDouble()));
        Assert.All(Rows(results, "two-pass"), r => Assert.True(r.GetProperty("bytesPerQuery").GetDouble() > 0));
        Assert.All(Rows(results, "two-pass-cached-warm"), r => Assert.Equal(0, r.GetProperty("bytesPerQuery").GetDouble()));
        Assert.All(Rows(results, "two-pass-cached-cold"), r => Assert.True(r.GetProperty("bytesPerQuery").GetDouble() > 0));

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_qdrant.Endpoint!, "collections/" + collection + "_p16"));
        if (_qdrant.ApiKey is { } apiKey)
        {
            request.Headers.Add("api-key", apiKey);
        }

        using var response = await http.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }
}
