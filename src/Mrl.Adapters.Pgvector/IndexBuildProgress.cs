namespace Mrl.Adapters.Pgvector;

/// <summary>One running index build, as <c>pg_stat_progress_create_index</c> shows it.</summary>
/// <param name="IndexName">The index (empty before PostgreSQL has created its catalog entry).</param>
/// <param name="Phase">The phase, e.g. <c>building index: loading tuples</c>.</param>
/// <param name="BlocksDone">Heap blocks scanned so far in this phase (pgvector reports its progress in blocks).</param>
/// <param name="BlocksTotal">Heap blocks to scan in this phase.</param>
/// <param name="TuplesDone">Tuples processed so far, where the phase reports it.</param>
/// <param name="TuplesTotal">Tuples to process, where the phase reports it.</param>
/// <param name="ParallelWorkers">Parallel workers the build's leader has right now.</param>
internal sealed record IndexBuildProgress(
    string IndexName, string Phase, long BlocksDone, long BlocksTotal, long TuplesDone, long TuplesTotal, int ParallelWorkers);
