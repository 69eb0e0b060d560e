using System.Net.Sockets;
using Mrl.Adapters.Pgvector;
using Mrl.Adapters.Testing;
using Npgsql;
using Polly;

namespace Mrl.Adapters.Reliability.Tests;

/// <summary>What the retry pipeline retries, and what it never does.</summary>
public sealed class RetryPolicyTests
{
    private static PostgresException Postgres(string sqlState) => new("message", "ERROR", "ERROR", sqlState);

    public static TheoryData<Exception, bool> Errors => new()
    {
        { Postgres(PostgresErrorCodes.AdminShutdown), true },
        { Postgres(PostgresErrorCodes.CrashShutdown), true },
        { Postgres(PostgresErrorCodes.CannotConnectNow), true },
        { Postgres(PostgresErrorCodes.TooManyConnections), true },
        { Postgres(PostgresErrorCodes.SerializationFailure), true },
        { Postgres(PostgresErrorCodes.DeadlockDetected), true },
        { Postgres(PostgresErrorCodes.ConnectionFailure), true },
        { new NpgsqlException("Exception while reading from stream", new IOException("reset", new SocketException(104))), true },
        { new NpgsqlException("Failed to connect", new SocketException(111)), true },
        { new NpgsqlException("Exception while reading from stream", new TimeoutException()), false },
        { Postgres(PostgresErrorCodes.QueryCanceled), false },
        { Postgres(PostgresErrorCodes.UniqueViolation), false },
        { Postgres(PostgresErrorCodes.CheckViolation), false },
        { Postgres(PostgresErrorCodes.InsufficientPrivilege), false },
        { Postgres(PostgresErrorCodes.UndefinedTable), false },
        { new ArgumentException("bad record"), false },
        { new OperationCanceledException(), false },
        { new InvalidOperationException(), false },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public async Task The_default_pipeline_retries_exactly_the_transient_errors(Exception error, bool transient)
    {
        Assert.Equal(transient, PgvectorResilience.IsTransient(error));
        var pipeline = PgvectorResilience.CreateRetryPipeline(3, TimeSpan.Zero);
        var attempts = 0;
        var thrown = await Assert.ThrowsAnyAsync<Exception>(() => pipeline.ExecuteAsync<int>(_ =>
        {
            attempts++;
            throw error;
        }).AsTask());

        Assert.Same(error, thrown);
        Assert.Equal(transient ? 4 : 1, attempts);
    }

    [Fact]
    public async Task A_transient_error_followed_by_success_returns_the_result()
    {
        var pipeline = PgvectorResilience.CreateRetryPipeline(3, TimeSpan.Zero);
        var attempts = 0;
        var result = await pipeline.ExecuteAsync(_ => ++attempts < 3 ? throw Postgres(PostgresErrorCodes.AdminShutdown) : ValueTask.FromResult(42));
        Assert.Equal(42, result);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public void No_retries_is_the_empty_pipeline_and_bad_settings_are_refused()
    {
        Assert.Same(ResiliencePipeline.Empty, PgvectorResilience.CreateRetryPipeline(0, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => PgvectorResilience.CreateRetryPipeline(-1, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => PgvectorResilience.CreateRetryPipeline(1, TimeSpan.FromSeconds(-1)));
        using var dataSource = PgvectorDataSource.Create("Host=127.0.0.1");
        Assert.Throws<ArgumentOutOfRangeException>(() => new PgvectorAdaptiveStore<long>(dataSource, new EmbeddingLayout(4, 2), new PgvectorStoreOptions { Table = "t", MaxRetries = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PgvectorAdaptiveStore<long>(dataSource, new EmbeddingLayout(4, 2), new PgvectorStoreOptions { Table = "t", RetryDelay = TimeSpan.FromHours(1) }));
    }
}

/// <summary>The store's own operations against a real server: errors that are not transient are never retried, and a pipeline of one's own replaces the default.</summary>
[Collection(PostgresGroup.Name)]
public sealed class StoreRetryTests(PostgresFixture postgres)
{
    private static readonly EmbeddingLayout Layout = new(16, 4);

    [SkippableFact]
    public async Task A_constraint_violation_fails_at_once_without_a_retry_and_writes_nothing_of_its_batch()
    {
        await using var test = await TestStore.CreateAsync(postgres, "check", Layout, o => o.UpsertBatchSize = 10);
        var (store, logger, table) = test;
        await TestRows.ExecuteAsync(postgres.DataSource, $"ALTER TABLE \"{table}\" ADD CONSTRAINT no_13 CHECK (payload->>'g' <> '13')");
        var records = TestRows.Records(0, 30, generation: 1, 16);
        records[25] = TestRows.Record(25, 13, 16);

        var error = await Assert.ThrowsAsync<PostgresException>(() => store.UpsertAsync(records));
        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
        Assert.Equal(0, logger.Retries);
        Assert.Equal(Enumerable.Range(0, 20).Select(k => (long)k), (await TestRows.ReadAsync(postgres.DataSource, table)).Keys.Order());
    }

    [SkippableFact]
    public async Task A_pipeline_of_ones_own_replaces_the_default_retry()
    {
        var executions = 0;
        var pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new Polly.Retry.RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && PgvectorResilience.IsTransient(e)),
                OnRetry = _ => default,
            })
            .AddStrategy(_ => new CountingStrategy(() => Interlocked.Increment(ref executions)), new CountingOptions())
            .Build();
        await using var test = await TestStore.CreateAsync(postgres, "own", Layout, o => o.ResiliencePipeline = pipeline);
        var store = test.Store;
        await store.UpsertAsync(TestRows.Records(0, 5, 1, 16));
        Assert.Equal(5, await store.CountAsync());
        Assert.NotNull(await store.GetAsync(3));
        Assert.True(executions >= 3, $"{executions} operations went through the pipeline");
    }

    private sealed class CountingOptions : ResilienceStrategyOptions;

    private sealed class CountingStrategy(Action count) : ResilienceStrategy
    {
        protected override ValueTask<Outcome<TResult>> ExecuteCore<TResult, TState>(
            Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state)
        {
            count();
            return callback(context, state);
        }
    }
}
