namespace Mrl.Adapters.Pgvector;

/// <summary>How a migration runs: batch sizes, pacing and patience with locks.</summary>
public sealed class PgvectorMigrationOptions
{
    /// <summary>Rows per backfill batch (one short transaction each). Default 5,000.</summary>
    public int BatchSize { get; set; } = 5_000;

    /// <summary>A pause after each backfill batch, to leave room for the application's own load. Default none.</summary>
    public TimeSpan Throttle { get; set; } = TimeSpan.Zero;

    /// <summary>How long a DDL statement waits for its table lock before it gives up and retries, so that it never queues application queries behind it for long. Default 2 s.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How many times a step that hit the lock timeout is tried again. Default 20.</summary>
    public int LockRetries { get; set; } = 20;

    /// <summary>The longest an index build may run; <see cref="TimeSpan.Zero"/> means no limit (the default).</summary>
    public TimeSpan IndexBuildTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// <c>maintenance_work_mem</c> for the migration's session, e.g. <c>1GB</c>: an HNSW build whose graph outgrows it goes on
    /// much more slowly (pgvector says so in a NOTICE). Null keeps the server's setting (the default).
    /// </summary>
    public string? MaintenanceWorkMem { get; set; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegative(LockRetries, nameof(LockRetries));
        if (MaintenanceWorkMem is not null && !System.Text.RegularExpressions.Regex.IsMatch(MaintenanceWorkMem, "^[0-9]+(kB|MB|GB)$"))
        {
            throw new ArgumentException($"MaintenanceWorkMem must look like 512MB or 1GB, got '{MaintenanceWorkMem}'.", nameof(MaintenanceWorkMem));
        }

        if (Throttle < TimeSpan.Zero || LockTimeout <= TimeSpan.Zero || IndexBuildTimeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(LockTimeout), "Throttle and IndexBuildTimeout must not be negative, and LockTimeout must be positive.");
        }
    }
}

/// <summary>Where a migration is: the step, and for the backfill the rows done out of the rows it started with.</summary>
/// <param name="Step">The step's name, e.g. <c>backfill</c>.</param>
/// <param name="Done">Rows filled so far (backfill), or 1 when a step completes.</param>
/// <param name="Total">Rows without a prefix when the backfill started, or 1.</param>
/// <param name="Message">What happened, for a log line.</param>
public sealed record MigrationProgress(string Step, long Done, long Total, string Message);

/// <summary>One index build: its name, how long it took, and its size on disk.</summary>
/// <param name="Name">The index.</param>
/// <param name="Elapsed">Wall-clock time of the build.</param>
/// <param name="SizeBytes"><c>pg_relation_size</c> of the index after the build.</param>
public sealed record IndexBuild(string Name, TimeSpan Elapsed, long SizeBytes);
