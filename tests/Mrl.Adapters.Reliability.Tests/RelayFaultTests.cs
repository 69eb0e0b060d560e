using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Mrl.Adapters.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Mrl.Adapters.Reliability.Tests;

/// <summary>
/// Every connection between the store and PostgreSQL goes through a <see cref="TcpRelay"/>, which cuts them all (a reset) or
/// stalls them (bytes held) while writers and searchers run.
/// </summary>
[Collection(PostgresGroup.Name)]
public sealed class RelayFaultTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int Dimensions = 32;
    private const int BlockSize = 50;
    private const int Blocks = 8;
    private static readonly EmbeddingLayout Layout = new(Dimensions, 8);

    // Blocks of keys, each always written whole by one call: block b holds keys b*BlockSize .. b*BlockSize+BlockSize-1.
    private static VectorRecord<long>[] Block(int block, int generation) => TestRows.Records((long)block * BlockSize, BlockSize, generation, Dimensions);

    /// <summary>A relay to the fixture's server; skips the calling test when there is none.</summary>
    private TcpRelay NewRelay()
    {
        postgres.RequireServer();
        var server = new NpgsqlConnectionStringBuilder(postgres.ConnectionString);
        return new TcpRelay(new IPEndPoint(IPAddress.Parse(server.Host == "localhost" ? "127.0.0.1" : server.Host!), server.Port));
    }

    /// <summary>A store whose every connection goes through <paramref name="relay"/>, holding generation 0 of every block.</summary>
    private async Task<TestStore> CreateAsync(TcpRelay relay, int commandTimeoutSeconds)
    {
        var relayed = await TestStore.CreateTaggedAsync(postgres, "relay", Layout,
            o =>
            {
                o.CommandTimeoutSeconds = commandTimeoutSeconds;
                o.RetryDelay = TimeSpan.FromMilliseconds(50);
            },
            b =>
            {
                b.Host = "127.0.0.1";
                b.Port = relay.Port;
                b.Timeout = 5;
                b.CancellationTimeout = 1_000;
                b.MaxPoolSize = 20;
            });
        await relayed.Store.UpsertAsync(Enumerable.Range(0, Blocks).SelectMany(b => Block(b, 0)).ToArray());
        return relayed;
    }

    /// <summary>
    /// Each block must hold one generation throughout, with its exact vectors, and that generation must be the last one a call
    /// acknowledged for it or one a later call tried and failed (whose outcome the caller cannot know).
    /// </summary>
    private async Task AssertBlocksAsync(string table, Dictionary<int, List<(int Generation, bool Acknowledged)>> writes)
    {
        var rows = await TestRows.ReadAsync(postgres.DataSource, table);
        for (var block = 0; block < Blocks; block++)
        {
            var keys = Enumerable.Range(block * BlockSize, BlockSize).Select(k => (long)k).ToArray();
            Assert.All(keys, k => Assert.True(rows.ContainsKey(k), $"key {k} is missing"));
            var generations = keys.Select(k => rows[k].Generation).Distinct().ToArray();
            Assert.True(generations.Length == 1, $"block {block} is half-written: generations {string.Join(", ", generations)}");
            Assert.All(keys, k => Assert.True(TestRows.HoldsItsGeneration(k, rows[k]), $"row {k} holds another vector"));

            var history = writes.TryGetValue(block, out var list) ? list : [];
            var lastAcknowledged = history.FindLastIndex(w => w.Acknowledged);
            var allowed = history.Skip(lastAcknowledged + 1).Select(w => w.Generation)
                .Append(lastAcknowledged >= 0 ? history[lastAcknowledged].Generation : 0).ToHashSet();
            Assert.True(allowed.Contains(generations[0]),
                $"block {block} holds generation {generations[0]}; possible: {string.Join(", ", allowed)}");
        }
    }

    [SkippableFact]
    public async Task Cutting_every_connection_during_upserts_and_searches_loses_no_acknowledged_write_and_the_pool_recovers()
    {
        await using var relay = NewRelay();
        await using var relayed = await CreateAsync(relay, commandTimeoutSeconds: 10);
        var (store, logger, table) = relayed;

        var writes = new ConcurrentDictionary<int, List<(int, bool)>>();
        var failures = new ConcurrentQueue<Exception>();
        long searches = 0, upserts = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(4));
        var generation = 0;

        async Task WriteAsync(int writer)
        {
            var random = new Random(writer);
            while (!stop.IsCancellationRequested)
            {
                // Writers own alternate blocks, so one block's calls are ordered.
                var block = writer + 2 * random.Next(Blocks / 2);
                var g = Interlocked.Increment(ref generation);
                bool acknowledged;
                try
                {
                    await store.UpsertAsync(Block(block, g));
                    acknowledged = true;
                    Interlocked.Increment(ref upserts);
                }
                catch (NpgsqlException e)
                {
                    failures.Enqueue(e);
                    acknowledged = false;
                }

                writes.GetOrAdd(block, _ => []).Add((g, acknowledged));
            }
        }

        async Task SearchAsync(int searcher)
        {
            var random = new Random(100 + searcher);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var key = random.Next(Blocks * BlockSize);
                    var result = await store.SearchAsync(TestRows.Vector(key, 0, Dimensions), new SearchOptions { K = 5 });
                    Assert.Equal(5, result.Hits.Count);
                    Interlocked.Increment(ref searches);
                }
                catch (NpgsqlException e)
                {
                    failures.Enqueue(e);
                }
            }
        }

        var cuts = 0;
        var severed = 0;
        var chaos = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(250);
                severed += relay.CutAll();
                cuts++;
            }
        });
        await Task.WhenAll(WriteAsync(0), WriteAsync(1), SearchAsync(0), SearchAsync(1), chaos);

        var retriesDuringCuts = logger.Retries;
        output.WriteLine($"{cuts} cuts severed {severed} connections; {upserts} upserts and {searches} searches acknowledged; " +
                         $"{retriesDuringCuts} retries; {failures.Count} calls failed: {string.Join(" | ", failures.Select(f => f.Message).Distinct())}");
        Assert.True(severed >= 5, $"only {severed} connections were cut");
        Assert.True(retriesDuringCuts >= 1, "no fault reached the store");
        Assert.True(upserts > 0 && searches > 0);
        Assert.All(failures, f => Assert.True(f is NpgsqlException { IsTransient: true }, f.ToString()));
        await AssertBlocksAsync(table, writes.ToDictionary(w => w.Key, w => w.Value));

        // After the last cut the pool may still hold dead idle connections: the first attempt that meets one clears them all,
        // so the store pays at most one retry, then works as before.
        for (var i = 0; i < 20; i++)
        {
            await store.UpsertAsync(Block(i % Blocks, 1_000 + i));
            Assert.Equal(5, (await store.SearchAsync(TestRows.Vector(i, 0, Dimensions), new SearchOptions { K = 5 })).Hits.Count);
            Assert.Equal(Blocks * BlockSize, await store.CountAsync());
        }

        Assert.InRange(logger.Retries - retriesDuringCuts, 0, 1);
        Assert.InRange(await TestRows.ScalarAsync<long>(postgres.DataSource, $"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{table}'"), 1, 20);
    }

    [SkippableFact]
    public async Task Stalling_every_connection_fails_calls_with_a_timeout_writes_nothing_and_the_store_works_after_the_relay_heals()
    {
        await using var relay = NewRelay();
        await using var relayed = await CreateAsync(relay, commandTimeoutSeconds: 2);
        var (store, logger, table) = relayed;
        Assert.Equal(5, (await store.SearchAsync(TestRows.Vector(1, 0, Dimensions), new SearchOptions { K = 5 })).Hits.Count);

        relay.Stall();
        var started = Stopwatch.GetTimestamp();
        var search = store.SearchAsync(TestRows.Vector(2, 0, Dimensions), new SearchOptions { K = 5 });
        var upsert = store.UpsertAsync(Block(3, 7));
        var count = store.CountAsync();
        var searchError = await Assert.ThrowsAnyAsync<NpgsqlException>(() => search.WaitAsync(TimeSpan.FromSeconds(60)));
        var upsertError = await Assert.ThrowsAnyAsync<NpgsqlException>(() => upsert.WaitAsync(TimeSpan.FromSeconds(60)));
        var countError = await Assert.ThrowsAnyAsync<NpgsqlException>(() => count.WaitAsync(TimeSpan.FromSeconds(60)));
        var failedAfter = Stopwatch.GetElapsedTime(started);
        output.WriteLine($"stalled calls failed within {failedAfter.TotalSeconds:F1} s: {searchError.Message} ({searchError.InnerException?.GetType().Name}); " +
                         $"{upsertError.Message} ({upsertError.InnerException?.GetType().Name}); retries {logger.Retries}");
        Assert.All(new[] { searchError, upsertError, countError }, e =>
        {
            Assert.True(e.IsTransient);
            Assert.IsType<TimeoutException>(e.InnerException);
        });
        Assert.Equal(0, logger.Retries);

        relay.Heal();

        // The held bytes reach the server once the relay heals, after the client gave up: the upsert's statements arrive in a
        // transaction that never gets its COMMIT, so they are rolled back.
        await Task.Delay(500);
        await AssertBlocksAsync(table, new Dictionary<int, List<(int, bool)>> { [3] = [(7, false)] });
        Assert.All(await TestRows.ReadAsync(postgres.DataSource, table), row => Assert.Equal(0, row.Value.Generation));

        await store.UpsertAsync(Block(3, 8));
        Assert.Equal(5, (await store.SearchAsync(TestRows.Vector(2, 0, Dimensions), new SearchOptions { K = 5 })).Hits.Count);
        Assert.Equal(Blocks * BlockSize, await store.CountAsync());
        Assert.Equal(8, (await TestRows.ReadAsync(postgres.DataSource, table))[3 * BlockSize].Generation);
    }
}
