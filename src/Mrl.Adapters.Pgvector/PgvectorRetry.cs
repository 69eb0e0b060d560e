using Npgsql;
using Polly;

namespace Mrl.Adapters.Pgvector;

/// <summary>
/// Runs one idempotent database operation through the resilience pipeline. Each attempt opens its own connection, so a retry
/// never reuses the one that failed; when an attempt finds its connection gone, the pool's idle connections are dropped too,
/// because whatever broke one (a restarted server, a cut network) most likely broke them all, and each would otherwise cost
/// the next callers a failed attempt.
/// </summary>
internal sealed class PgvectorRetry(ResiliencePipeline pipeline, NpgsqlDataSource dataSource)
{
    public ResiliencePipeline Pipeline { get; } = pipeline;

    /// <summary>The pipeline the options ask for: the caller's own, or the default retry with its notices sent to <paramref name="onRetry"/>.</summary>
    public static ResiliencePipeline FromOptions(PgvectorStoreOptions options, Func<PgvectorResilience.RetryNotice, ValueTask>? onRetry) =>
        options.ResiliencePipeline ?? PgvectorResilience.CreateRetryPipeline(options.MaxRetries, options.RetryDelay, onRetry);

    public async Task<T> ExecuteAsync<T>(string operation, Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(operation, cancellationToken);
        try
        {
            return await Pipeline.ExecuteAsync(
                static async (context, state) => await state.Self.AttemptAsync(state.Action, context.CancellationToken).ConfigureAwait(false),
                context,
                (Self: this, Action: action)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    public Task ExecuteAsync(string operation, Func<CancellationToken, Task> action, CancellationToken cancellationToken) =>
        ExecuteAsync(operation, async ct =>
        {
            await action(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    private async Task<T> AttemptAsync<T>(Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        try
        {
            return await action(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException e) when (PgvectorResilience.BreaksConnection(e))
        {
            dataSource.Clear();
            throw;
        }
    }
}
