using System.CommandLine;
using Mrl.Adapters;
using Mrl.Adapters.InMemory;
using Mrl.Adapters.Pgvector;

namespace Mrl.Cli.Commands;

/// <summary>Where <c>mrl index</c> writes and <c>mrl search</c> reads: an in-memory snapshot file (the default) or a PostgreSQL table.</summary>
internal sealed class StoreOptions
{
    public Option<string> File { get; } = new("--store") { Description = "In-memory store snapshot file.", DefaultValueFactory = _ => "mrl-index.bin" };

    public Option<string?> Postgres { get; } = new("--postgres") { Description = "Npgsql connection string: use a PostgreSQL table instead of the snapshot file." };

    public Option<string> Table { get; } = new("--table") { Description = "PostgreSQL table (name or schema.name).", DefaultValueFactory = _ => "mrl_documents" };

    public void AddTo(Command command)
    {
        command.Options.Add(File);
        command.Options.Add(Postgres);
        command.Options.Add(Table);
    }

    public PgvectorAdaptiveStore<string>? OpenPostgres(ParseResult parse, EmbeddingLayout layout)
    {
        if (parse.GetValue(Postgres) is not { } connection)
        {
            return null;
        }

        var (schema, table) = SqlIdentifier.ParseQualified(parse.GetValue(Table)!);
        return new PgvectorAdaptiveStore<string>(layout, new PgvectorStoreOptions { ConnectionString = connection, Schema = schema, Table = table });
    }

    /// <summary>
    /// The layout an existing table was built with, read from its columns' declared dimensions, so that a search needs no
    /// --dims or --prefix the table already records.
    /// </summary>
    public async Task<EmbeddingLayout> ReadPostgresLayoutAsync(ParseResult parse, DistanceMetric metric, CancellationToken cancellationToken)
    {
        var (schema, table) = SqlIdentifier.ParseQualified(parse.GetValue(Table)!);
        var options = new PgvectorStoreOptions { Schema = schema, Table = table };
        await using var dataSource = PgvectorDataSource.Create(parse.GetValue(Postgres)!);
        var full = await PgvectorMigrator.ReadFullDimensionsAsync(dataSource, options, cancellationToken);
        var prefixColumn = SqlIdentifier.Derive(options.VectorColumn, "prefix");
        try
        {
            options.VectorColumn = prefixColumn;
            return new EmbeddingLayout(full, await PgvectorMigrator.ReadFullDimensionsAsync(dataSource, options, cancellationToken), metric);
        }
        catch (PgvectorMigrationException e)
        {
            throw new ArgumentException(
                $"The table {parse.GetValue(Table)} has no prefix column {prefixColumn} to read the prefix size from: pass --prefix. ({e.Message})", e);
        }
    }

    /// <summary>
    /// The comment of the table's prefix column, where <c>mrl index</c> records its model; false when the column is missing,
    /// carries a comment of someone else's (left as it is), or the role does not own the table.
    /// </summary>
    public async Task<bool> RecordPostgresModelAsync(ParseResult parse, IndexedModel model, CancellationToken cancellationToken)
    {
        var (table, prefixColumn) = PrefixColumn(parse);
        await using var dataSource = PgvectorDataSource.Create(parse.GetValue(Postgres)!);
        try
        {
            return await PgvectorColumnComment.WriteTaggedAsync(dataSource, table, prefixColumn, model.ToJson(), cancellationToken);
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.InsufficientPrivilege)
        {
            // COMMENT needs the table's owner; a role that may only write rows has still indexed everything.
            return false;
        }
    }

    /// <summary>The model <c>mrl index</c> recorded on the table's prefix column, or null when there is no such record.</summary>
    public async Task<IndexedModel?> ReadPostgresModelAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var (table, prefixColumn) = PrefixColumn(parse);
        await using var dataSource = PgvectorDataSource.Create(parse.GetValue(Postgres)!);
        return IndexedModel.FromJson(await PgvectorColumnComment.ReadTaggedAsync(dataSource, table, prefixColumn, cancellationToken));
    }

    private (string Table, string PrefixColumn) PrefixColumn(ParseResult parse)
    {
        var (schema, table) = SqlIdentifier.ParseQualified(parse.GetValue(Table)!);
        return (SqlIdentifier.Qualified(schema, table), new PgvectorStoreOptions { Schema = schema, Table = table }.ResolvedPrefixColumn);
    }

    /// <summary>The snapshot at --store, with the model recorded in it (null for a snapshot that records none).</summary>
    public async Task<(InMemoryAdaptiveStore<string> Store, IndexedModel? Model)> LoadFileAsync(ParseResult parse, EmbeddingLayout? layout, CancellationToken cancellationToken)
    {
        var path = parse.GetValue(File)!;
        if (!System.IO.File.Exists(path))
        {
            return layout is not null
                ? (new InMemoryAdaptiveStore<string>(layout), null)
                : throw new ArgumentException($"No index at {path}: run `mrl index` first, or pass --store.");
        }

        await using var stream = System.IO.File.OpenRead(path);
        var (store, metadata) = await InMemorySnapshot.LoadWithMetadataAsync<string>(stream, cancellationToken);
        if (layout is not null && store.Layout != layout)
        {
            store.Dispose();
            throw new ArgumentException($"The index at {path} was built for {store.Layout}, not {layout}; use another --store or the same --prefix.");
        }

        return (store, IndexedModel.From(metadata));
    }

    public async Task SaveFileAsync(ParseResult parse, InMemoryAdaptiveStore<string> store, IndexedModel model, CancellationToken cancellationToken)
    {
        var path = parse.GetValue(File)!;
        var temporary = path + ".tmp";

        // The index holds the documents' texts and payloads: readable by its owner only. CreateNew, after removing what a
        // crashed run left, never opens through a symbolic link planted at the temporary name.
        System.IO.File.Delete(temporary);
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var stream = new FileStream(temporary, create))
        {
            await InMemorySnapshot.SaveAsync(store, stream, model.ToMetadata(), cancellationToken);
        }

        System.IO.File.Move(temporary, path, overwrite: true);
    }
}
