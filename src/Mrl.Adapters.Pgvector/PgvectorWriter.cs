using Npgsql;
using NpgsqlTypes;
using Pgvector;
using static Mrl.Adapters.Pgvector.PgvectorVectorCodec;

namespace Mrl.Adapters.Pgvector;

/// <summary>
/// Writes one batch of records in one transaction: pipelined <c>INSERT ... ON CONFLICT</c> statements, or binary COPY into a
/// staging table merged with the same conflict handling. Batching and retries are the store's.
/// </summary>
internal sealed class PgvectorWriter<TKey>(NpgsqlDataSource dataSource, PgvectorStoreOptions options) where TKey : notnull
{
    private readonly NpgsqlDataSource _dataSource = dataSource;
    private readonly PgvectorStoreOptions _options = options;

    public async Task UpsertWithStatementsAsync(PgvectorTable table, IReadOnlyList<VectorRecord<TKey>> records, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection, transaction) { Timeout = _options.CommandTimeoutSeconds };
        var sql = table.Upsert;
        var hasPayload = _options.PayloadColumn is not null || _options.PayloadColumns.Count > 0;
        foreach (var record in records)
        {
            var command = new NpgsqlBatchCommand(sql);
            command.Parameters.Add(new NpgsqlParameter<TKey> { TypedValue = record.Key });
            command.Parameters.Add(VectorParameter(table, table.FullType, record.Vector));
            if (hasPayload)
            {
                command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = record.Payload?.GetRawText(), NpgsqlDbType = NpgsqlDbType.Jsonb });
            }

            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task UpsertWithCopyAsync(PgvectorTable table, IReadOnlyList<VectorRecord<TKey>> records, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var create = new NpgsqlCommand(table.CreateStagingTable, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var writer = await connection.BeginBinaryImportAsync(PgvectorTable.CopyIntoStaging, cancellationToken).ConfigureAwait(false))
        {
            var fullType = table.DataTypeName(table.FullType);
            foreach (var record in records)
            {
                await writer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                await writer.WriteAsync(record.Key, cancellationToken).ConfigureAwait(false);
                if (table.FullType == VectorType.HalfVec)
                {
                    await writer.WriteAsync(ToHalfVector(record.Vector), fullType, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await writer.WriteAsync(new Vector(record.Vector), fullType, cancellationToken).ConfigureAwait(false);
                }

                if (record.Payload is { } payload)
                {
                    await writer.WriteAsync(payload.GetRawText(), NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await writer.WriteNullAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var merge = new NpgsqlCommand(table.MergeStaging, connection, transaction) { CommandTimeout = _options.CommandTimeoutSeconds })
        {
            await merge.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void CheckPayloadFields(IReadOnlyList<VectorRecord<TKey>> records)
    {
        if (_options.PayloadColumn is not null)
        {
            return;
        }

        foreach (var record in records)
        {
            if (record.Payload is not { } payload)
            {
                continue;
            }

            foreach (var field in payload.EnumerateObject())
            {
                if (!_options.PayloadColumns.Contains(field.Name))
                {
                    var where = _options.PayloadColumns.Count == 0
                        ? "the table has no payload columns"
                        : "payload columns are " + string.Join(", ", _options.PayloadColumns);
                    throw new ArgumentException(
                        $"Record {record.Key} has payload field '{field.Name}', which has no column to go to ({where}); nothing was written.", nameof(records));
                }
            }
        }
    }
}
