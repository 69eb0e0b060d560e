using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Npgsql;
using Polly;
using Polly.Retry;

namespace Mrl.Adapters.Pgvector;

/// <summary>
/// Which PostgreSQL errors are worth another try, and the retry pipeline the pgvector store and migrator run their idempotent
/// operations through (Polly v8).
/// </summary>
public static partial class PgvectorResilience
{
    /// <summary>
    /// Whether trying the same operation again, on another connection, may succeed: Npgsql's own transient detection
    /// (<see cref="NpgsqlException.IsTransient"/>: a broken or refused connection, too many connections, a lock not granted,
    /// a serialization failure, ...) plus a terminated backend (<c>57P01</c>, <c>57P02</c>) and a deadlock (<c>40P01</c>).
    /// </summary>
    /// <remarks>
    /// A command timeout is not retried: the statement ran for the whole timeout, so another try most likely does the same,
    /// and retrying multiplies the caller's wait by the attempts. It surfaces as an <see cref="NpgsqlException"/> whose
    /// <see cref="Exception.InnerException"/> is a <see cref="TimeoutException"/> (and <see cref="NpgsqlException.IsTransient"/>
    /// is true, so a caller may still decide to try again). Argument errors, cancellation and every other database error
    /// (constraint violations, missing privileges, a server-side <c>statement_timeout</c>) are never retried.
    /// </remarks>
    public static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.IsTransient || postgres.SqlState is "57P01" or "57P02" or "40P01",
        NpgsqlException { InnerException: TimeoutException } => false,
        NpgsqlException npgsql => npgsql.IsTransient,
        _ => false,
    };

    /// <summary>
    /// A pipeline that retries <see cref="IsTransient"/> errors up to <paramref name="maxRetries"/> times, after
    /// <paramref name="delay"/>, then twice as long each time, with jitter, at most 5 s apart. 0 retries gives
    /// <see cref="ResiliencePipeline.Empty"/>.
    /// </summary>
    /// <param name="maxRetries">Retries after the first attempt, 0 to 100.</param>
    /// <param name="delay">The wait before the first retry.</param>
    /// <param name="logger">Where each retry is logged as a warning (operation, attempt, delay, SQLSTATE); never any value.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative or too large count or delay.</exception>
    public static ResiliencePipeline CreateRetryPipeline(int maxRetries, TimeSpan delay, ILogger? logger = null) =>
        CreateRetryPipeline(maxRetries, delay, logger is null ? null : retry =>
        {
            LogRetry(logger, retry.Operation, retry.Attempt, (long)retry.Delay.TotalMilliseconds, retry.Error);
            return default;
        });

    internal static ResiliencePipeline CreateRetryPipeline(int maxRetries, TimeSpan delay, Func<RetryNotice, ValueTask>? onRetry)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetries);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRetries, 100);
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(delay, TimeSpan.FromMinutes(1));
        if (maxRetries == 0)
        {
            return ResiliencePipeline.Empty;
        }

        var options = new RetryStrategyOptions
        {
            ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsTransient(e)),
            MaxRetryAttempts = maxRetries,
            Delay = delay,
            MaxDelay = TimeSpan.FromSeconds(5),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        };
        if (onRetry is not null)
        {
            options.OnRetry = args => onRetry(new RetryNotice(
                args.Context.OperationKey ?? "operation", args.AttemptNumber + 1, args.RetryDelay, Describe(args.Outcome.Exception)));
        }

        return new ResiliencePipelineBuilder().AddRetry(options).Build();
    }

    /// <summary>Whether the error means the physical connection is gone, so that the pool's other idle connections are suspect too.</summary>
    internal static bool BreaksConnection(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.SqlState.StartsWith("08", StringComparison.Ordinal) || postgres.SqlState is "57P01" or "57P02" or "57P03",
        NpgsqlException npgsql => npgsql.InnerException is IOException or SocketException or EndOfStreamException,
        _ => false,
    };

    // The SQLSTATE and Npgsql's own text, never a parameter value.
    private static string Describe(Exception? exception) => exception switch
    {
        PostgresException postgres => postgres.SqlState + " " + postgres.MessageText,
        null => "",
        _ => exception.GetType().Name + ": " + exception.Message + (exception.InnerException is { } inner ? " (" + inner.GetType().Name + ")" : ""),
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Transient PostgreSQL error in {Operation}, retry {Attempt} in {DelayMs} ms: {Error}")]
    private static partial void LogRetry(ILogger logger, string operation, int attempt, long delayMs, string error);

    /// <summary>One retry about to happen.</summary>
    internal readonly record struct RetryNotice(string Operation, int Attempt, TimeSpan Delay, string Error)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{Operation}: transient error ({Error}), retry {Attempt} in {Delay.TotalMilliseconds:F0} ms");
    }
}
