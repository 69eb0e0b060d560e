using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Mrl.Adapters.Pgvector;

/// <summary>
/// Collections as tables of one PostgreSQL schema: collection <c>name</c> is table <c>schema.name</c>, managed by a
/// <see cref="PgvectorAdaptiveStore{TKey}"/> that creates it on <see cref="IAdaptiveStore{TKey}.EnsureSchemaAsync"/>.
/// Every collection's store options start from the defaults with <see cref="PgvectorStoreOptions.Schema"/> and
/// <see cref="PgvectorStoreOptions.Table"/> set, then pass through the <c>configure</c> callback.
/// </summary>
public sealed class PgvectorAdaptiveStoreFactory : IAdaptiveStoreFactory
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _schema;
    private readonly Action<string, PgvectorStoreOptions>? _configure;
    private readonly ILoggerFactory _loggerFactory;

    /// <summary>Creates a factory over the caller's data source, which must have pgvector's types mapped (<c>UseVector()</c>).</summary>
    /// <param name="dataSource">Where the tables live.</param>
    /// <param name="schema">The schema of every collection's table. Default <c>public</c>.</param>
    /// <param name="configure">Adjusts the store options of a collection (the name is its first argument); it may not change the schema or table.</param>
    /// <param name="loggerFactory">For the stores' logs.</param>
    public PgvectorAdaptiveStoreFactory(
        NpgsqlDataSource dataSource, string schema = "public", Action<string, PgvectorStoreOptions>? configure = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentException.ThrowIfNullOrWhiteSpace(schema);
        _dataSource = dataSource;
        _schema = schema;
        _configure = configure;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
    }

    /// <inheritdoc />
    public string SystemName => PgvectorAdaptiveStore<long>.SystemName;

    /// <inheritdoc />
    public IAdaptiveStore<TKey> GetStore<TKey>(string name, EmbeddingLayout layout) where TKey : notnull =>
        new PgvectorAdaptiveStore<TKey>(_dataSource, layout, OptionsFor(name), _loggerFactory.CreateLogger<PgvectorAdaptiveStore<TKey>>());

    /// <summary>The tables of the schema that have a <c>vector</c> or <c>halfvec</c> column named as <see cref="PgvectorStoreOptions.VectorColumn"/> defaults (<c>embedding</c>).</summary>
    public async IAsyncEnumerable<string> ListCollectionNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var vectorColumn = new PgvectorStoreOptions().VectorColumn;
        await using var command = _dataSource.CreateCommand(PgvectorTable.VectorTables);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _schema });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = vectorColumn });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return reader.GetString(0);
        }
    }

    /// <inheritdoc />
    public async Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        var options = OptionsFor(name);
        await using var command = _dataSource.CreateCommand(PgvectorTable.TableExists);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SqlIdentifier.Qualified(options.Schema, options.Table) });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>
    /// Drops the collection's table, when it is one: a table of the schema with a <c>vector</c> or <c>halfvec</c> column
    /// named as the collection's <see cref="PgvectorStoreOptions.VectorColumn"/>, as <see cref="ListCollectionNamesAsync"/>
    /// lists. Nothing happens when there is no such table.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// A table of that name exists but is not a collection (e.g. the application's <c>users</c>): it is left alone.
    /// </exception>
    public async Task DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        var options = OptionsFor(name);
        if (!await CollectionExistsAsync(name, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        // A collection name is also any table's name; the factory drops only tables it would list as collections.
        var isCollection = false;
        await using (var command = _dataSource.CreateCommand(PgvectorTable.VectorTables))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = options.Schema });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = options.VectorColumn });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (!isCollection && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                isCollection = string.Equals(reader.GetString(0), options.Table, StringComparison.Ordinal);
            }
        }

        if (!isCollection)
        {
            throw new InvalidOperationException(
                $"'{options.Schema}.{options.Table}' is not a collection: it has no vector or halfvec column named '{options.VectorColumn}'. The table was not dropped.");
        }

        // Dropping needs no layout; the migrator asks for one to render the other scripts.
        var anyLayout = new EmbeddingLayout(2, 1);
        await new PgvectorMigrator(_dataSource, anyLayout, options).DropTableAsync(cancellationToken).ConfigureAwait(false);
    }

    private PgvectorStoreOptions OptionsFor(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = new PgvectorStoreOptions { Schema = _schema, Table = name };
        _configure?.Invoke(name, options);
        if (options.Schema != _schema || options.Table != name)
        {
            throw new InvalidOperationException(
                $"The configure callback moved collection '{name}' to {options.Schema}.{options.Table}; a factory's collection is always table {_schema}.{name}.");
        }

        options.Validate();
        return options;
    }
}
