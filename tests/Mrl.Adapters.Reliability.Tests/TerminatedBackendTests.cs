using System.Globalization;
using Mrl.Adapters.Pgvector;
using Mrl.Adapters.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Mrl.Adapters.Reliability.Tests;

/// <summary>
/// <c>pg_terminate_backend</c> on the writer's connection in the middle of a large batched upsert, and of a migration backfill.
/// (A backfill killed with retries off and resumed by a re-run: PgvectorMigrationTests in Mrl.Adapters.Pgvector.Tests.)
/// </summary>
[Collection(PostgresGroup.Name)]
public sealed class TerminatedBackendTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int Dimensions = 64;
    private const int BatchSize = 400;
    private const int Batches = 30;
    private static readonly EmbeddingLayout Layout = new(Dimensions, 16);

    private async Task<TestStore> CreateStoreAsync(int copyThreshold, int maxRetries)
    {
        var writer = await TestStore.CreateTaggedAsync(postgres, "term", Layout, o =>
        {
            o.UpsertBatchSize = BatchSize;
            o.CopyThreshold = copyThreshold;
            o.MaxRetries = maxRetries;
            o.DeferIndexes = true;
        });
        await writer.Store.UpsertAsync(TestRows.Records(0, BatchSize * Batches, generation: 1, Dimensions));
        return writer;
    }

    /// <summary>Once <paramref name="batchesWritten"/> batches of generation 2 are in, terminates every backend of the store's data source.</summary>
    private async Task<long> TerminateDuringAsync(string table, Task upsert, int batchesWritten)
    {
        while (await TestRows.ScalarAsync<long>(postgres.DataSource, $"SELECT count(*) FROM \"{table}\" WHERE payload->>'g' = '2'") < batchesWritten * BatchSize)
        {
            Assert.False(upsert.IsCompleted, "the upsert ended before it could be interrupted");
            await Task.Delay(5);
        }

        Assert.False(upsert.IsCompleted, "the upsert ended before it could be interrupted");
        return await TestRows.ScalarAsync<long>(postgres.DataSource,
            $"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{table}'");
    }

    [SkippableTheory]
    [InlineData(0)]
    [InlineData(BatchSize)]
    public async Task A_terminated_writer_is_retried_and_every_batch_lands_whole(int copyThreshold)
    {
        await using var writer = await CreateStoreAsync(copyThreshold, maxRetries: 3);
        var (store, logger, table) = writer;

        var upsert = store.UpsertAsync(TestRows.Records(0, BatchSize * Batches, generation: 2, Dimensions));
        var terminated = await TerminateDuringAsync(table, upsert, batchesWritten: 3);
        await upsert;

        var rows = await TestRows.ReadAsync(postgres.DataSource, table);
        output.WriteLine($"{(copyThreshold > 0 ? "COPY" : "statements")}: terminated {terminated} backend(s); {logger.Retries} retries; {rows.Count} rows");
        Assert.True(terminated >= 1);
        Assert.True(logger.Retries >= 1, "the store did not retry");
        Assert.Equal(BatchSize * Batches, rows.Count);
        Assert.All(rows, row => Assert.Equal(2, row.Value.Generation));
        Assert.All(rows, row => Assert.True(TestRows.HoldsItsGeneration(row.Key, row.Value), $"row {row.Key} holds another vector"));
    }

    [SkippableTheory]
    [InlineData(0)]
    [InlineData(BatchSize)]
    public async Task Without_retries_a_terminated_upsert_fails_transiently_leaving_whole_batches_and_a_rerun_completes(int copyThreshold)
    {
        await using var writer = await CreateStoreAsync(copyThreshold, maxRetries: 0);
        var (store, _, table) = writer;

        var records = TestRows.Records(0, BatchSize * Batches, generation: 2, Dimensions);
        var upsert = store.UpsertAsync(records);
        var terminated = await TerminateDuringAsync(table, upsert, batchesWritten: 3);
        var error = await Assert.ThrowsAnyAsync<NpgsqlException>(() => upsert);

        var rows = await TestRows.ReadAsync(postgres.DataSource, table);
        var generations = Enumerable.Range(0, Batches)
            .Select(b => Enumerable.Range(b * BatchSize, BatchSize).Select(k => rows[k].Generation).Distinct().ToArray())
            .ToArray();
        var committed = generations.TakeWhile(g => g is [2]).Count();
        output.WriteLine($"terminated {terminated}; {committed} of {Batches} batches committed before: {error.GetType().Name} {error.Message}");

        Assert.True(PgvectorResilience.IsTransient(error), error.ToString());
        Assert.Equal(BatchSize * Batches, rows.Count);
        Assert.All(rows, row => Assert.True(TestRows.HoldsItsGeneration(row.Key, row.Value), $"row {row.Key} holds another vector"));
        Assert.All(generations, g => Assert.Single(g));
        Assert.InRange(committed, 3, Batches - 1);
        Assert.All(generations.Skip(committed), g => Assert.Equal([1], g));

        await store.UpsertAsync(records);
        Assert.All(await TestRows.ReadAsync(postgres.DataSource, table), row => Assert.Equal(2, row.Value.Generation));
    }

    [SkippableFact]
    public async Task A_backend_terminated_during_the_backfill_is_retried_and_the_migration_completes_in_one_call()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("killfill");
        await TestRows.ExecuteAsync(postgres.DataSource, $"CREATE TABLE \"{table}\" (id bigint PRIMARY KEY, embedding vector({Dimensions}) NOT NULL, payload jsonb)");
        await TestRows.ExecuteAsync(postgres.DataSource,
            $"INSERT INTO \"{table}\" SELECT i, ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, {Dimensions}))::vector FROM generate_series(1, 15000) AS i");
        await using var tagged = TestRows.Tagged(postgres.ConnectionString, table);
        var options = new PgvectorStoreOptions { Table = table, CreateTableIfMissing = false, RetryDelay = TimeSpan.FromMilliseconds(20) };
        var migrator = new PgvectorMigrator(tagged, Layout, options);

        var backfilling = new TaskCompletionSource();
        var messages = new List<string>();
        var progress = new SynchronousProgress(p =>
        {
            lock (messages)
            {
                messages.Add(p.Message);
            }

            if (p.Step == "backfill" && p.Done > 0)
            {
                backfilling.TrySetResult();
            }
        });
        var run = migrator.UpAsync(new PgvectorMigrationOptions { BatchSize = 500, Throttle = TimeSpan.FromMilliseconds(20) }, progress);
        await backfilling.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var terminated = await TestRows.ScalarAsync<long>(postgres.DataSource,
            $"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{table}'");
        await run;

        var retries = messages.Where(m => m.Contains("transient error", StringComparison.Ordinal)).ToArray();
        output.WriteLine($"terminated {terminated}; {string.Join(" | ", retries)}");
        Assert.True(terminated >= 1);
        Assert.NotEmpty(retries);
        Assert.Equal(0L, await TestRows.ScalarAsync<long>(postgres.DataSource,
            $"SELECT count(*) FROM \"{table}\" WHERE embedding_prefix IS DISTINCT FROM CAST(l2_normalize(subvector(embedding, 1, 16)) AS halfvec(16))"));
        Assert.Equal("true", await TestRows.ScalarAsync<string>(postgres.DataSource,
            string.Create(CultureInfo.InvariantCulture, $"SELECT indisvalid::text FROM pg_index WHERE indexrelid = to_regclass('\"{options.ResolvedIndexName(16)}\"')")));
    }

    private sealed class SynchronousProgress(Action<MigrationProgress> report) : IProgress<MigrationProgress>
    {
        public void Report(MigrationProgress value) => report(value);
    }
}
