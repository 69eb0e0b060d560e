using System.Text.Json;
using Mrl.Adapters.Pgvector;
using Mrl.Adapters.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Mrl.Adapters.Reliability.Tests;

/// <summary>Statements that run past <see cref="PgvectorStoreOptions.CommandTimeoutSeconds"/> or a server-side <c>statement_timeout</c>.</summary>
[Collection(PostgresGroup.Name)]
public sealed class StatementTimeoutTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int Dimensions = 16;
    private const int BatchSize = 100;
    private static readonly EmbeddingLayout Layout = new(Dimensions, 4);

    private static VectorRecord<long> Slow(VectorRecord<long> record) =>
        record with { Payload = JsonSerializer.SerializeToElement(new { g = record.Payload!.Value.GetProperty("g").GetInt32(), slow = true }) };

    private async Task<TestStore> CreateAsync(int copyThreshold, NpgsqlDataSource? dataSource = null)
    {
        var slow = await TestStore.CreateAsync(postgres, "slow", Layout, o =>
        {
            o.UpsertBatchSize = BatchSize;
            o.CopyThreshold = copyThreshold;
            o.CommandTimeoutSeconds = 1;
            o.DeferIndexes = true;
        }, dataSource);
        var table = slow.Table;

        // A row whose payload says slow takes 3 s to write: past the command timeout and any statement_timeout below.
        await TestRows.ExecuteAsync(postgres.DataSource,
            $"CREATE FUNCTION \"{table}_slow\"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$");
        await TestRows.ExecuteAsync(postgres.DataSource,
            $"CREATE TRIGGER slow BEFORE INSERT OR UPDATE ON \"{table}\" FOR EACH ROW WHEN (NEW.payload->>'slow' = 'true') EXECUTE FUNCTION \"{table}_slow\"()");
        return slow;
    }

    [SkippableTheory]
    [InlineData(0)]
    [InlineData(BatchSize)]
    public async Task A_batch_that_outlasts_the_command_timeout_fails_whole_with_a_timeout_and_is_not_retried(int copyThreshold)
    {
        await using var slow = await CreateAsync(copyThreshold);
        var (store, logger, table) = slow;
        var records = TestRows.Records(0, 3 * BatchSize, generation: 1, Dimensions);
        records[250] = Slow(records[250]);

        var error = await Assert.ThrowsAnyAsync<NpgsqlException>(() => store.UpsertAsync(records));
        output.WriteLine($"{error.GetType().Name}: {error.Message} ({error.InnerException?.GetType().Name}); {logger.Retries} retries");
        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.True(error.IsTransient);
        Assert.False(PgvectorResilience.IsTransient(error));
        Assert.Equal(0, logger.Retries);

        var rows = await TestRows.ReadAsync(postgres.DataSource, table);
        Assert.Equal(Enumerable.Range(0, 2 * BatchSize).Select(k => (long)k), rows.Keys.Order());
        Assert.All(rows, row => Assert.True(TestRows.HoldsItsGeneration(row.Key, row.Value)));

        records[250] = TestRows.Record(250, 1, Dimensions);
        await store.UpsertAsync(records);
        Assert.Equal(3 * BatchSize, await store.CountAsync());
    }

    [SkippableFact]
    public async Task A_row_lock_held_past_the_command_timeout_fails_the_batch_whole_and_the_store_then_writes_it()
    {
        await using var slow = await CreateAsync(copyThreshold: 0);
        var (store, _, table) = slow;
        await store.UpsertAsync(TestRows.Records(0, BatchSize, generation: 1, Dimensions));

        await using (var holder = await postgres.DataSource.OpenConnectionAsync())
        await using (var transaction = await holder.BeginTransactionAsync())
        {
            await using (var lockRow = new NpgsqlCommand($"SELECT id FROM \"{table}\" WHERE id = 70 FOR UPDATE", holder, transaction))
            {
                await lockRow.ExecuteScalarAsync();
            }

            var error = await Assert.ThrowsAnyAsync<NpgsqlException>(() => store.UpsertAsync(TestRows.Records(0, BatchSize, generation: 2, Dimensions)));
            Assert.IsType<TimeoutException>(error.InnerException);
            Assert.All(await TestRows.ReadAsync(postgres.DataSource, table), row => Assert.Equal(1, row.Value.Generation));
            await transaction.RollbackAsync();
        }

        await store.UpsertAsync(TestRows.Records(0, BatchSize, generation: 2, Dimensions));
        Assert.All(await TestRows.ReadAsync(postgres.DataSource, table), row => Assert.Equal(2, row.Value.Generation));
    }

    [SkippableFact]
    public async Task A_table_lock_held_past_the_command_timeout_fails_searches_and_counts_with_a_timeout_and_they_work_once_it_is_released()
    {
        await using var slow = await CreateAsync(copyThreshold: 0);
        var (store, _, table) = slow;
        await store.UpsertAsync(TestRows.Records(0, BatchSize, generation: 1, Dimensions));

        await using (var holder = await postgres.DataSource.OpenConnectionAsync())
        await using (var transaction = await holder.BeginTransactionAsync())
        {
            await using (var lockTable = new NpgsqlCommand($"LOCK TABLE \"{table}\" IN ACCESS EXCLUSIVE MODE", holder, transaction))
            {
                await lockTable.ExecuteNonQueryAsync();
            }

            var search = await Assert.ThrowsAnyAsync<NpgsqlException>(() => store.SearchAsync(TestRows.Vector(3, 1, Dimensions), new SearchOptions { K = 3 }));
            var count = await Assert.ThrowsAnyAsync<NpgsqlException>(() => store.CountAsync());
            Assert.IsType<TimeoutException>(search.InnerException);
            Assert.IsType<TimeoutException>(count.InnerException);
            await transaction.CommitAsync();
        }

        Assert.Equal(3L, (await store.SearchAsync(TestRows.Vector(3, 1, Dimensions), new SearchOptions { K = 3 })).Hits[0].Key);
        Assert.Equal(BatchSize, await store.CountAsync());
    }

    [SkippableFact]
    public async Task A_server_statement_timeout_fails_the_batch_whole_with_57014_and_is_not_retried()
    {
        postgres.RequireServer();
        await using var limited = TestRows.Tagged(postgres.ConnectionString, "statement-timeout", b => b.Options = "-c statement_timeout=500");
        await using var slow = await CreateAsync(copyThreshold: 0, limited);
        var (store, logger, table) = slow;
        var records = TestRows.Records(0, 2 * BatchSize, generation: 1, Dimensions);
        records[150] = Slow(records[150]);

        var error = await Assert.ThrowsAsync<PostgresException>(() => store.UpsertAsync(records));
        Assert.Equal(PostgresErrorCodes.QueryCanceled, error.SqlState);
        Assert.Contains("statement timeout", error.MessageText, StringComparison.Ordinal);
        Assert.Equal(0, logger.Retries);
        Assert.Equal(Enumerable.Range(0, BatchSize).Select(k => (long)k), (await TestRows.ReadAsync(postgres.DataSource, table)).Keys.Order());
    }
}
