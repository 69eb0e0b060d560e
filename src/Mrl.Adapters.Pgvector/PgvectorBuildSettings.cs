namespace Mrl.Adapters.Pgvector;

/// <summary>The server settings and table option that decide how many parallel workers an index build gets.</summary>
/// <param name="MaxParallelMaintenanceWorkers"><c>max_parallel_maintenance_workers</c>: the most workers one build may use, leader not counted.</param>
/// <param name="MaxParallelWorkers"><c>max_parallel_workers</c>: the most parallel workers the whole server runs at once.</param>
/// <param name="MaxWorkerProcesses"><c>max_worker_processes</c>: the pool parallel workers are taken from.</param>
/// <param name="MaintenanceWorkMem"><c>maintenance_work_mem</c> as the server reports it (a session may raise it for its build).</param>
/// <param name="TableParallelWorkers">The table's <c>parallel_workers</c> option; null when unset, and PostgreSQL plans from the heap's size.</param>
internal sealed record PgvectorBuildSettings(
    int MaxParallelMaintenanceWorkers, int MaxParallelWorkers, int MaxWorkerProcesses, string MaintenanceWorkMem, int? TableParallelWorkers)
{
    /// <summary>
    /// The workers a build on the table is planned with, leader not counted: the table's <c>parallel_workers</c> capped by
    /// <c>max_parallel_maintenance_workers</c> and <c>max_parallel_workers</c>. Null when the table's option is unset.
    /// PostgreSQL plans fewer when <c>maintenance_work_mem</c> gives a participant less than 32 MB.
    /// </summary>
    public int? PlannedWorkers => TableParallelWorkers is { } workers
        ? Math.Min(workers, Math.Min(MaxParallelMaintenanceWorkers, MaxParallelWorkers))
        : null;
}
