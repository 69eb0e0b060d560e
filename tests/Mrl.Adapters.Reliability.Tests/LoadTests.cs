using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Mrl.Adapters.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Mrl.Adapters.Reliability.Tests;

/// <summary>
/// Searchers and writers against one pgvector store for a bounded time: <c>MRL_LOAD_SECONDS</c> (default 5; docs/reliability.md
/// reports a longer run).
/// </summary>
[Collection(PostgresGroup.Name)]
public sealed class LoadTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int Dimensions = 128;
    private const int Writers = 4;
    private const int Searchers = 8;
    private const int KeysPerWriter = 2_000;
    private const int MaxPoolSize = 10;
    private const int K = 10;
    private static readonly EmbeddingLayout Layout = new(Dimensions, 32);

    private static TimeSpan Duration =>
        TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("MRL_LOAD_SECONDS"), CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? seconds : 5);

    [SkippableFact]
    public async Task Concurrent_searchers_and_writers_run_without_errors_within_the_pool_and_every_acknowledged_write_is_found()
    {
        await using var test = await TestStore.CreateTaggedAsync(postgres, "load", Layout, o => o.DeferIndexes = true, b =>
        {
            b.MaxPoolSize = MaxPoolSize;
            b.Timeout = 30;
        });
        var (store, logger, table) = test;
        for (var w = 0; w < Writers; w++)
        {
            await store.UpsertAsync(TestRows.Records((long)w * KeysPerWriter, KeysPerWriter, generation: 0, Dimensions));
        }

        await store.CreateIndexesAsync();

        var errors = new ConcurrentQueue<string>();
        var counts = new ConcurrentDictionary<string, long>();
        var searchMicros = new ConcurrentQueue<long>();
        var expected = new Dictionary<long, int?>[Writers];
        long maxBackends = 0;
        using var stop = new CancellationTokenSource(Duration);
        var generation = 0;

        async Task WriteAsync(int writer)
        {
            // Each writer owns its keys, so what it last wrote (or deleted) is what the table must hold at the end.
            var random = new Random(writer);
            var mine = expected[writer] = Enumerable.Range(writer * KeysPerWriter, KeysPerWriter).ToDictionary(k => (long)k, _ => (int?)0);
            while (!stop.IsCancellationRequested)
            {
                var roll = random.Next(10);
                try
                {
                    if (roll < 7)
                    {
                        var g = Interlocked.Increment(ref generation);
                        var keys = Enumerable.Range(0, 20).Select(_ => (long)(writer * KeysPerWriter + random.Next(KeysPerWriter))).Distinct().ToArray();
                        await store.UpsertAsync(keys.Select(k => TestRows.Record(k, g, Dimensions)).ToArray());
                        foreach (var key in keys)
                        {
                            mine[key] = g;
                        }

                        counts.AddOrUpdate("upsert", 1, (_, n) => n + 1);
                    }
                    else if (roll < 8)
                    {
                        var keys = Enumerable.Range(0, 5).Select(_ => (long)(writer * KeysPerWriter + random.Next(KeysPerWriter))).Distinct().ToArray();
                        var existing = keys.Count(k => mine[k] is not null);
                        var deleted = await store.DeleteAsync(keys);
                        if (deleted != existing)
                        {
                            errors.Enqueue($"delete removed {deleted} rows, expected {existing}");
                        }

                        foreach (var key in keys)
                        {
                            mine[key] = null;
                        }

                        counts.AddOrUpdate("delete", 1, (_, n) => n + 1);
                    }
                    else
                    {
                        var key = (long)(writer * KeysPerWriter + random.Next(KeysPerWriter));
                        var got = await store.GetAsync(key);
                        if (mine[key] is { } g ? got is null || !got.Vector.Span.SequenceEqual(TestRows.Vector(key, g, Dimensions)) : got is not null)
                        {
                            errors.Enqueue($"get {key} did not return what this writer last wrote (generation {mine[key]})");
                        }

                        counts.AddOrUpdate("get", 1, (_, n) => n + 1);
                    }
                }
                catch (Exception e) when (e is NpgsqlException or ArgumentException or InvalidOperationException)
                {
                    errors.Enqueue(e.GetType().Name + ": " + e.Message);
                }
            }
        }

        async Task SearchAsync(int searcher)
        {
            var random = new Random(1_000 + searcher);
            SearchStrategy[] reranks = [SearchStrategy.TwoPass, SearchStrategy.TwoPass, SearchStrategy.TwoPassInDatabase, SearchStrategy.PrefixOnly];
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var key = random.Next(Writers * KeysPerWriter);
                    var options = new SearchOptions { K = K, Strategy = reranks[random.Next(reranks.Length)] };
                    var started = Stopwatch.GetTimestamp();
                    var result = await store.SearchAsync(TestRows.Vector(key, 0, Dimensions), options);
                    searchMicros.Enqueue((long)Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                    if (result.Hits.Count != K)
                    {
                        errors.Enqueue($"search ({options.Strategy}) returned {result.Hits.Count} hits, not {K}");
                    }
                    else if (result.Hits.Zip(result.Hits.Skip(1)).Any(p => p.First.Score < p.Second.Score - Slack(options.Strategy)))
                    {
                        errors.Enqueue($"search ({options.Strategy}) returned hits out of order: {string.Join(", ", result.Hits.Select(h => h.Score.ToString("R", CultureInfo.InvariantCulture)))}");
                    }

                    if (random.Next(20) == 0 && await store.CountAsync(Filter.Range("g", gte: 0)) <= 0)
                    {
                        errors.Enqueue("count returned nothing");
                    }

                    counts.AddOrUpdate("search", 1, (_, n) => n + 1);
                }
                catch (Exception e) when (e is NpgsqlException or ArgumentException or InvalidOperationException)
                {
                    errors.Enqueue(e.GetType().Name + ": " + e.Message);
                }
            }
        }

        async Task WatchAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                var backends = await TestRows.ScalarAsync<long>(postgres.DataSource, $"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{table}'");
                maxBackends = Math.Max(maxBackends, backends);
                await Task.Delay(100);
            }
        }

        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(WriteAsync)
            .Concat(Enumerable.Range(0, Searchers).Select(SearchAsync))
            .Append(WatchAsync()));
        var elapsed = Stopwatch.GetElapsedTime(started);

        var latencies = searchMicros.Order().ToArray();
        var total = counts.Values.Sum();
        var perKind = string.Join(", ", counts.OrderBy(c => c.Key).Select(c => FormattableString.Invariant($"{c.Key} {c.Value} ({c.Value / elapsed.TotalSeconds:F0}/s)")));
        output.WriteLine(FormattableString.Invariant(
            $"{Writers} writers, {Searchers} searchers, pool {MaxPoolSize}, {elapsed.TotalSeconds:F1} s: {total} operations ({total / elapsed.TotalSeconds:F0}/s): {perKind}; ") +
            FormattableString.Invariant(
            $"search p50 {Percentile(latencies, 0.5) / 1000.0:F1} ms, p99 {Percentile(latencies, 0.99) / 1000.0:F1} ms; {errors.Count} errors, {logger.Retries} retries, at most {maxBackends} backends"));
        foreach (var error in errors.Distinct().Take(10))
        {
            output.WriteLine(error);
        }

        Assert.Empty(errors);
        Assert.True(counts.GetValueOrDefault("upsert") > 0 && counts.GetValueOrDefault("search") > 0);
        Assert.InRange(maxBackends, 1, MaxPoolSize);

        var rows = await TestRows.ReadAsync(postgres.DataSource, table);
        var live = expected.SelectMany(e => e).Where(e => e.Value is not null).ToArray();
        Assert.Equal(live.Length, rows.Count);
        Assert.All(live, e =>
        {
            Assert.True(rows.TryGetValue(e.Key, out var row), $"key {e.Key} is missing");
            Assert.Equal(e.Value, row.Generation);
            Assert.True(TestRows.HoldsItsGeneration(e.Key, row), $"row {e.Key} holds another vector");
        });
    }

    [SkippableFact]
    public async Task A_search_on_a_table_whose_rows_were_all_rewritten_many_times_still_returns_k_rows()
    {
        await using var test = await TestStore.CreateAsync(postgres, "churn", new EmbeddingLayout(16, 4));
        var (store, _, table) = test;
        await TestRows.ExecuteAsync(postgres.DataSource, $"ALTER TABLE \"{table}\" SET (autovacuum_enabled = false)");
        for (var g = 0; g < 25; g++)
        {
            await store.UpsertAsync(TestRows.Records(0, 400, g, 16));
        }

        foreach (var rerank in new[] { SearchStrategy.TwoPass, SearchStrategy.TwoPassInDatabase, SearchStrategy.PrefixOnly })
        {
            for (var q = 0; q < 5; q++)
            {
                var hits = (await store.SearchAsync(TestRows.Vector(q, 24, 16), new SearchOptions { K = K, Oversampling = 4, Strategy = rerank })).Hits;
                Assert.Equal(K, hits.Count);
                Assert.Equal(q, hits[0].Key);
            }
        }
    }

    // Prefix-only hits come in the index's order, computed in half precision on normalized prefixes, while their scores are
    // recomputed in SQL: neighbours can differ by a few 1e-5. Reranked hits are scored and ordered by one computation.
    private static float Slack(SearchStrategy rerank) => rerank == SearchStrategy.PrefixOnly ? 1e-3f : 0f;

    private static long Percentile(long[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[(int)Math.Min(sorted.Length - 1, p * sorted.Length)];
}
