using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Mrl.Adapters.Caching;
using Npgsql;
using Pgvector;
using static Mrl.Adapters.Pgvector.PgvectorVectorCodec;

namespace Mrl.Adapters.Pgvector;

// Search: pass 1 on the prefix index (with row versions for the full-vector cache), the single-query strategies, and the cache's warm-up.
public sealed partial class PgvectorAdaptiveStore<TKey>
{
    private async Task<SearchResult<TKey>> SearchOnceAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken)
    {
        return options.Strategy switch
        {
            SearchStrategy.FullDimension => await SearchFullDimensionsAsync(query, options, cancellationToken).ConfigureAwait(false),
            SearchStrategy.TwoPassInDatabase => await SearchRerankInDatabaseAsync(query, options, cancellationToken).ConfigureAwait(false),
            _ => await TwoPassRetriever.SearchAsync(Layout, this, query, options, cancellationToken).ConfigureAwait(false),
        };
    }

    /// <inheritdoc />
    async ValueTask<CandidateBatch<TKey>> ICandidateSource<TKey>.FetchCandidatesAsync(CandidateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var table = await GetTableAsync(cancellationToken).ConfigureAwait(false);
        if (_cached is not null && request.IncludeFullVectors)
        {
            return await _cached.FetchCandidatesAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var parameters = new List<NpgsqlParameter> { PrefixParameter(table, request.PrefixQuery), new NpgsqlParameter<int> { TypedValue = request.Count } };
        var sql = table.Pass1(request.Filter, request.IncludeFullVectors, parameters);

        var strictOrder = !request.IncludeFullVectors;
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = CreateSearchBatch(connection, table, request.Count, request.EfSearch, request.Filter is not null, strictOrder, sql, parameters);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await SkipSettingsResultsAsync(reader, batch.BatchCommands.Count - 1, cancellationToken).ConfigureAwait(false);

        var d = Layout.FullDimensions;
        var buffer = request.IncludeFullVectors ? new CandidateVectorBuffer(request.Count, d) : null;
        var candidates = new List<Candidate<TKey>>(Math.Min(request.Count, InitialRowCapacity));
        long bytes = 0;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var full = ReadOnlyMemory<float>.Empty;
            if (request.IncludeFullVectors)
            {
                full = buffer!.Slot(candidates.Count);
                ReadWire(reader, 2, table.FullType, buffer.Slot(candidates.Count).Span);
                bytes += (long)d * (table.FullType == VectorType.HalfVec ? 2 : 4);
            }

            candidates.Add(new Candidate<TKey>(reader.GetFieldValue<TKey>(0), table.Score(reader.GetDouble(1)), full, ReadPayload(reader, 3)));
        }

        return new CandidateBatch<TKey>(candidates, bytes) { Vectors = buffer };
    }

    /// <summary>
    /// Streams every full vector into <see cref="FullVectorCache"/> with binary COPY, reporting the rows read so far.
    /// A cache smaller than the table keeps what its budget allows.
    /// </summary>
    /// <returns>The rows read.</returns>
    /// <exception cref="InvalidOperationException">The store has no cache.</exception>
    public async Task<long> WarmAsync(IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        var cached = _cached ?? throw new InvalidOperationException("This store has no FullVectorCache to warm.");
        var cache = cached.Cache;
        var table = await GetTableAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var export = await connection.BeginBinaryExportAsync(table.CopyFullVectorsOut, cancellationToken).ConfigureAwait(false);
        var buffer = new float[Layout.FullDimensions];
        long rows = 0;
        while (await export.StartRowAsync(cancellationToken).ConfigureAwait(false) >= 0)
        {
            var key = await export.ReadAsync<TKey>(cancellationToken).ConfigureAwait(false);
            var version = await export.ReadAsync<long>(cancellationToken).ConfigureAwait(false);
            if (table.FullType == VectorType.HalfVec)
            {
                var half = await export.ReadAsync<HalfVector>(cancellationToken).ConfigureAwait(false);
                TensorPrimitives.ConvertToSingle(half.Memory.Span, buffer);
                cache.Put(key, version, buffer);
            }
            else
            {
                var vector = await export.ReadAsync<Vector>(cancellationToken).ConfigureAwait(false);
                cache.Put(key, version, vector.Memory.Span);
            }

            if (++rows % 10_000 == 0)
            {
                progress?.Report(rows);
            }
        }

        progress?.Report(rows);
        cached.MarkWarm();
        return rows;
    }

    /// <inheritdoc />
    async ValueTask<long> IVersionedCandidateSource<TKey>.ReadVersionedCandidatesAsync(
        CandidateRequest request, List<VersionedCandidate<TKey>> rows, CandidateVectorBuffer? fullVectors, CancellationToken cancellationToken)
    {
        var table = await GetTableAsync(cancellationToken).ConfigureAwait(false);
        var parameters = new List<NpgsqlParameter> { PrefixParameter(table, request.PrefixQuery), new NpgsqlParameter<int> { TypedValue = request.Count } };
        var sql = fullVectors is not null ? table.Pass1WithVersionsAndVectors(request.Filter, parameters) : table.Pass1WithVersions(request.Filter, parameters);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = CreateSearchBatch(connection, table, request.Count, request.EfSearch, request.Filter is not null, strictOrder: false, sql, parameters);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await SkipSettingsResultsAsync(reader, batch.BatchCommands.Count - 1, cancellationToken).ConfigureAwait(false);
        long bytes = 0;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (fullVectors is not null)
            {
                ReadWire(reader, 4, table.FullType, fullVectors.Slot(rows.Count).Span);
                bytes += FullVectorBytes(table);
            }

            rows.Add(new VersionedCandidate<TKey>(reader.GetFieldValue<TKey>(0), table.Score(reader.GetDouble(1)), reader.GetInt64(2), ReadPayload(reader, 3)));
        }

        return bytes;
    }

    /// <inheritdoc />
    async ValueTask<long> IVersionedCandidateSource<TKey>.ReadFullVectorsAsync(
        IReadOnlyDictionary<TKey, int> slots, CandidateVectorBuffer into, Action<int, long> found, CancellationToken cancellationToken)
    {
        var table = await GetTableAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand(table.FullVectorsByKey);
        command.CommandTimeout = _options.CommandTimeoutSeconds;
        command.Parameters.Add(new NpgsqlParameter<TKey[]> { TypedValue = slots.Keys.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        long bytes = 0;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var slot = slots[reader.GetFieldValue<TKey>(0)];
            ReadWire(reader, 2, table.FullType, into.Slot(slot).Span);
            found(slot, reader.GetInt64(1));
            bytes += FullVectorBytes(table);
        }

        return bytes;
    }

    private async Task<SearchResult<TKey>> SearchRerankInDatabaseAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken)
    {
        Layout.Validate(query.Span, "the query");
        var table = await GetTableAsync(cancellationToken).ConfigureAwait(false);
        var count = options.CandidateCount;
        var parameters = new List<NpgsqlParameter>
        {
            PrefixParameter(table, Layout.ToPrefix(query.Span)),
            new NpgsqlParameter<int> { TypedValue = count },
            VectorParameter(table, table.FullType, query),
            new NpgsqlParameter<int> { TypedValue = options.K },
        };
        var sql = table.TwoPassInDatabase(options.Filter, parameters);
        return await RunSingleQueryAsync(table, sql, parameters, count, options, strictOrder: false, SearchStrategy.TwoPassInDatabase, cancellationToken).ConfigureAwait(false);
    }

    private async Task<SearchResult<TKey>> SearchFullDimensionsAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken)
    {
        Layout.Validate(query.Span, "the query");
        var table = await GetTableAsync(cancellationToken).ConfigureAwait(false);
        if (!table.FullDimensionsIndexable)
        {
            throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                $"pgvector cannot index {Layout.FullDimensions} dimensions (halfvec stops at {PgvectorTable.MaxHalfvecIndexDimensions}), so there is no full-dimension single pass to compare with."));
        }

        var parameters = new List<NpgsqlParameter> { VectorParameter(table, table.FullIndexType, query), new NpgsqlParameter<int> { TypedValue = options.K } };
        var sql = table.FullDimension(options.Filter, parameters);
        return await RunSingleQueryAsync(table, sql, parameters, options.K, options, strictOrder: true, SearchStrategy.FullDimension, cancellationToken).ConfigureAwait(false);
    }

    private async Task<SearchResult<TKey>> RunSingleQueryAsync(
        PgvectorTable table, string sql, List<NpgsqlParameter> parameters, int scanCount, SearchOptions options, bool strictOrder, SearchStrategy strategy, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = CreateSearchBatch(connection, table, scanCount, options.EfSearch, options.Filter is not null, strictOrder, sql, parameters);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await SkipSettingsResultsAsync(reader, batch.BatchCommands.Count - 1, cancellationToken).ConfigureAwait(false);
        var hits = new List<SearchHit<TKey>>(options.K);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            hits.Add(new SearchHit<TKey>(reader.GetFieldValue<TKey>(0), table.Score(reader.GetDouble(1)), ReadPayload(reader, 3)));
        }

        return new SearchResult<TKey>(hits, new SearchDiagnostics
        {
            CandidatesFetched = strategy == SearchStrategy.FullDimension ? hits.Count : scanCount,
            Pass1Time = Stopwatch.GetElapsedTime(start),
            Strategy = strategy,
        });
    }

    // ef_search and the iterative scan are set with set_config(..., true): local to the batch's implicit transaction,
    // in the same round trip as the query.
    private NpgsqlBatch CreateSearchBatch(
        NpgsqlConnection connection, PgvectorTable table, int count, int? efSearch, bool filtered, bool strictOrder, string sql, List<NpgsqlParameter> parameters)
    {
        var ef = Math.Clamp(Math.Max(count, efSearch ?? _options.DefaultEfSearch), 1, 1000);
        var batch = new NpgsqlBatch(connection) { Timeout = _options.CommandTimeoutSeconds };
        batch.BatchCommands.Add(Setting("hnsw.ef_search", ef.ToString(CultureInfo.InvariantCulture)));

        // The index scan must be able to keep going past ef_search rows: for a filter, for more candidates than ef_search can
        // return, and for index entries of rows updated or deleted since the last vacuum, each of which takes one of the
        // ef_search slots and is then dropped (an update-heavy table otherwise returns far fewer than k rows).
        if (table.SupportsIterativeScan)
        {
            batch.BatchCommands.Add(Setting("hnsw.iterative_scan", strictOrder ? "strict_order" : "relaxed_order"));
        }
        else if (filtered || count > ef)
        {
            LogNoIterativeScan(_logger, table.PgvectorVersion.ToString());
        }

        // pgvector's cost estimate of an HNSW scan grows with ef_search, while the estimate of a sequential scan does not count
        // the detoasting of an out-of-line vector: on a table whose vectors live in TOAST, the planner switches an unfiltered
        // search to a sequential scan and an exact sort over every row once ef_search is a few hundred (seconds per query
        // at 100,000 rows). Without a filter, the index is always the intended plan. With one, the planner keeps its choice.
        if (!filtered)
        {
            batch.BatchCommands.Add(Setting("enable_seqscan", "off"));
        }

        var query = new NpgsqlBatchCommand(sql);
        query.Parameters.AddRange(parameters.ToArray());
        batch.BatchCommands.Add(query);
        return batch;

        static NpgsqlBatchCommand Setting(string name, string value) =>
            new("SELECT pg_catalog.set_config($1, $2, true)") { Parameters = { new NpgsqlParameter<string> { TypedValue = name }, new NpgsqlParameter<string> { TypedValue = value } } };
    }

    private static async Task SkipSettingsResultsAsync(NpgsqlDataReader reader, int settings, CancellationToken cancellationToken)
    {
        for (var i = 0; i < settings; i++)
        {
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
