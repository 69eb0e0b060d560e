using System.Globalization;
using System.Text;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Migration;

/// <summary>
/// What a migration will do, worked out from the server's state and the options alone (no I/O): the path, the
/// collections and alias involved, and every call in order. <see cref="ToString"/> is the dry-run output.
/// </summary>
public sealed class QdrantMigrationPlan
{
    private QdrantMigrationPlan(
        Version serverVersion, QdrantMigrationPath path, QdrantCollectionInfo source, string? sourceVectorName, string targetCollection,
        string? alias, IReadOnlyList<string> notes, IReadOnlyList<QdrantMigrationStep> steps, QdrantStoreOptions store, QdrantMigrationOptions options)
    {
        ServerVersion = serverVersion;
        Path = path;
        SourceCollection = source.Name;
        SourceVectorName = sourceVectorName;
        TargetCollection = targetCollection;
        Alias = alias;
        PointsTotal = source.PointsCount;
        Notes = notes;
        Steps = steps;
        Store = store;
        BatchSize = options.BatchSize;
        ResumeFrom = options.ResumeFrom;
        Requests = steps.SelectMany(Preview).ToArray();
    }

    /// <summary>The server version the plan was made for.</summary>
    public Version ServerVersion { get; }

    /// <summary>The path taken: <see cref="QdrantMigrationPath.InPlace"/> or <see cref="QdrantMigrationPath.NewCollection"/>.</summary>
    public QdrantMigrationPath Path { get; }

    /// <summary>The collection (or alias) the points are read from.</summary>
    public string SourceCollection { get; }

    /// <summary>The vector that holds the full embeddings in the source; null for an unnamed vector.</summary>
    public string? SourceVectorName { get; }

    /// <summary>The collection that ends up with both vectors: the source itself in place, or the new collection.</summary>
    public string TargetCollection { get; }

    /// <summary>The alias switched to <see cref="TargetCollection"/> at the end of the new-collection path; null in place.</summary>
    public string? Alias { get; }

    /// <summary>The name the store should use afterwards: <see cref="Alias"/>, or the source in place.</summary>
    public string StoreCollection => Alias ?? SourceCollection;

    /// <summary>How many points the source held, when the server said.</summary>
    public long? PointsTotal { get; }

    /// <summary>Things to know before running it: what the plan does not do, and what writers should do meanwhile.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Every call in order; a call repeated per page appears once, with a note.</summary>
    public IReadOnlyList<QdrantRequestPreview> Requests { get; }

    internal IReadOnlyList<QdrantMigrationStep> Steps { get; }

    internal QdrantStoreOptions Store { get; }

    internal int BatchSize { get; }

    internal QdrantPointId? ResumeFrom { get; }

    /// <summary>Works out the plan.</summary>
    /// <param name="state">The server's version, the source collection, the target if it exists, and the aliases.</param>
    /// <param name="store">The options of the store that will use the collection afterwards.</param>
    /// <param name="options">The path asked for and its details.</param>
    /// <exception cref="QdrantMigrationException">The server is too old for the path asked for, or the collection cannot be migrated as asked; the message says why and what to do.</exception>
    /// <exception cref="ArgumentException">The store options are invalid.</exception>
    public static QdrantMigrationPlan Create(QdrantServerState state, QdrantStoreOptions store, QdrantMigrationOptions options)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        store.Validate();
        if (options.BatchSize < 1)
        {
            throw new ArgumentException("BatchSize must be at least 1.", nameof(options));
        }

        if (state.Version < QdrantServerVersion.Minimum)
        {
            throw new QdrantMigrationException(
                $"Qdrant {state.Version} is too old: the store needs {QdrantServerVersion.Minimum} or later (the Query API with prefetch). Upgrade Qdrant first.");
        }

        if (store.Layout!.Projection is { } projection && state.Version < QdrantServerVersion.CollectionMetadata)
        {
            throw new QdrantMigrationException(
                $"Qdrant {state.Version} cannot record the projection {projection} with the collection: collection metadata arrived in " +
                $"{QdrantServerVersion.CollectionMetadata}, and without it no client could tell which projection the keys are computed with. Upgrade Qdrant first.");
        }

        var layout = store.Layout!;
        var source = state.Source;
        var sourceVector = SourceVector(source, store, options);
        var prefixReady = source.UnnamedVector is null && source.NamedVectors.TryGetValue(store.PrefixVectorName, out var existingPrefix) &&
                          Matches(existingPrefix, layout.PrefixDimensions, layout.Metric);
        if (source.UnnamedVector is null && source.NamedVectors.TryGetValue(store.PrefixVectorName, out var other) && !prefixReady &&
            string.Equals(sourceVector, store.FullVectorName, StringComparison.Ordinal))
        {
            throw new QdrantMigrationException(string.Create(CultureInfo.InvariantCulture,
                $"Collection '{source.Name}' already has a vector '{store.PrefixVectorName}' ({other.Size} dimensions, {other.Distance}), not the " +
                $"{layout.PrefixDimensions}-dimension {QdrantDistance.For(layout.Metric)} prefix the layout needs. Choose another PrefixVectorName."));
        }

        var inPlacePossible = sourceVector is not null && string.Equals(sourceVector, store.FullVectorName, StringComparison.Ordinal);
        var path = options.Path switch
        {
            QdrantMigrationPath.Auto => inPlacePossible && (prefixReady || state.Version >= QdrantServerVersion.VectorCreation)
                ? QdrantMigrationPath.InPlace
                : QdrantMigrationPath.NewCollection,
            QdrantMigrationPath.InPlace or QdrantMigrationPath.NewCollection => options.Path,
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Path, "Unknown migration path."),
        };

        return path == QdrantMigrationPath.InPlace
            ? InPlace(state, store, options, sourceVector, prefixReady)
            : NewCollection(state, store, options, sourceVector);
    }

    /// <summary>The dry-run output: the path, the collections, the notes and every call with its message.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        var points = PointsTotal is { } n ? string.Create(CultureInfo.InvariantCulture, $"~{n} points") : "an unknown number of points";
        // Names come from the server and the caller; the plan is printed to a terminal, so none may carry an escape sequence.
        static string Shown(string? name) => UnicodeText.EscapeForDisplay(name ?? "");
        var vector = SourceVectorName is null ? "its unnamed vector" : $"vector '{Shown(SourceVectorName)}'";
        text.AppendLine(Path == QdrantMigrationPath.InPlace
            ? $"Qdrant {ServerVersion}: add the prefix vector to '{Shown(SourceCollection)}' in place, from {vector} ({points})."
            : $"Qdrant {ServerVersion}: copy '{Shown(SourceCollection)}' ({points}, {vector}) into new collection '{Shown(TargetCollection)}', then point alias '{Shown(Alias)}' at it.");
        text.AppendLine(CultureInfo.InvariantCulture, $"Afterwards the store uses '{Shown(StoreCollection)}'.");
        foreach (var note in Notes)
        {
            text.AppendLine("Note: " + Shown(note));
        }

        text.AppendLine("Calls:");
        foreach (var request in Requests)
        {
            text.AppendLine(request.ToString());
        }

        return text.ToString();
    }

    private static QdrantMigrationPlan InPlace(QdrantServerState state, QdrantStoreOptions store, QdrantMigrationOptions options, string? sourceVector, bool prefixReady)
    {
        var source = state.Source;
        if (sourceVector is null)
        {
            throw new QdrantMigrationException(
                $"Collection '{source.Name}' keeps its embeddings in an unnamed vector, which cannot get a named prefix vector beside it in place. " +
                "Use QdrantMigrationPath.NewCollection (or Auto).");
        }

        if (!string.Equals(sourceVector, store.FullVectorName, StringComparison.Ordinal))
        {
            throw new QdrantMigrationException(
                $"In place, the full vector keeps its name '{sourceVector}', but the store expects '{store.FullVectorName}'. " +
                $"Set QdrantStoreOptions.FullVectorName = \"{sourceVector}\", or use QdrantMigrationPath.NewCollection to rename it by copying.");
        }

        if (!prefixReady && state.Version < QdrantServerVersion.VectorCreation)
        {
            throw new QdrantMigrationException(
                $"Qdrant {state.Version} cannot add a named vector to an existing collection: qdrant.Points/CreateVectorName " +
                $"arrived in {QdrantServerVersion.VectorCreation}. Upgrade Qdrant, or use QdrantMigrationPath.NewCollection (a new collection and an alias switch).");
        }

        var layout = store.Layout!;
        var steps = new List<QdrantMigrationStep>();
        var marker = NeedsProjection(source, store, $"Collection '{source.Name}'")
            ? QdrantProjectionCodec.Describe(layout.Projection!, QdrantProjectionCodec.CollectionFor(store.Collection))
            : null;
        if (marker is not null)
        {
            steps.Add(new StoreProjectionStep(marker.Collection, layout.Projection!));
            steps.Add(SwitchProjectionStep(source.CollectionName, store.PrefixVectorName, marker));
        }

        if (!prefixReady)
        {
            steps.Add(CreateVectorStep(QdrantCollections.CreateVector(source.Name, store.PrefixVectorName, layout.PrefixDimensions, layout.Metric)));
        }

        foreach (var index in store.PayloadIndexes.Where(i => !source.HasPayloadIndex(QdrantFilterTranslator.KeyPath(i.Field))))
        {
            steps.Add(PayloadIndexStep(source.Name, QdrantFilterTranslator.KeyPath(index.Field), QdrantCollections.SchemaType(index.Type)));
        }

        steps.Add(new BackfillStep(source.Name, sourceVector));

        List<string> notes =
        [
            "Points written meanwhile by anything but QdrantAdaptiveStore get no prefix vector; run the migration again afterwards to fill them.",
            $"The full vector '{sourceVector}' keeps its HNSW graph; once nothing searches it directly, setting its hnsw_config.m to 0 frees that memory.",
        ];
        if (source.NamedVectors.TryGetValue(sourceVector, out var full) && full.HnswM == 0)
        {
            notes.RemoveAt(1);
        }

        if (marker is not null)
        {
            notes.Add(ProjectionNote(store, marker));
            if (prefixReady)
            {
                notes.Add($"'{store.PrefixVectorName}' exists and records no projection: the backfill computes every key again with {layout.Projection}; " +
                          "until it ends, searches miss points whose key is not done yet.");
            }
        }

        return new QdrantMigrationPlan(state.Version, QdrantMigrationPath.InPlace, source, sourceVector, source.Name, null, notes, steps, store, options);
    }

    private static QdrantMigrationPlan NewCollection(QdrantServerState state, QdrantStoreOptions store, QdrantMigrationOptions options, string? sourceVector)
    {
        var source = state.Source;
        var layout = store.Layout!;
        var target = options.TargetCollection ?? DefaultTarget(source.CollectionName);
        if (string.Equals(target, source.CollectionName, StringComparison.Ordinal))
        {
            throw new QdrantMigrationException($"The target collection must differ from the source collection '{source.CollectionName}'.");
        }

        var alias = options.Alias ?? (source.IsAlias ? source.Name : null);
        if (alias is null)
        {
            throw new QdrantMigrationException(
                $"'{source.Name}' is a collection that readers address by its own name, so there is no alias to switch atomically. Set " +
                "QdrantMigrationOptions.Alias to the alias readers will use from now on (it cannot be the name of an existing collection); " +
                "the store then uses that alias.");
        }

        if (string.Equals(alias, source.CollectionName, StringComparison.Ordinal) || string.Equals(alias, target, StringComparison.Ordinal))
        {
            throw new QdrantMigrationException($"The alias '{alias}' cannot have the name of a collection ('{source.CollectionName}' or '{target}').");
        }

        var dropped = source.NamedVectors.Keys
            .Where(n => !string.Equals(n, sourceVector, StringComparison.Ordinal) && !string.Equals(n, store.PrefixVectorName, StringComparison.Ordinal))
            .Select(n => $"'{n}'")
            .Concat(source.SparseVectorNames.Select(n => $"sparse '{n}'"))
            .ToArray();
        if (dropped.Length > 0)
        {
            throw new QdrantMigrationException(
                $"Collection '{source.Name}' has other vectors ({string.Join(", ", dropped)}) that a copy into a collection with only " +
                $"'{store.PrefixVectorName}' and '{store.FullVectorName}' would lose. Migrate in place instead (Qdrant 1.18+, with the full vector named '{store.FullVectorName}').");
        }

        var spec = QdrantCollectionSpec.From(store, state.Version) with
        {
            ShardNumber = store.ShardNumber ?? source.ShardNumber,
            ReplicationFactor = store.ReplicationFactor ?? source.ReplicationFactor,
            WriteConsistencyFactor = store.WriteConsistencyFactor ?? source.WriteConsistencyFactor,
        };

        var steps = new List<QdrantMigrationStep>();
        var existing = state.Target;
        var marker = layout.Projection is { } projection ? QdrantProjectionCodec.Describe(projection, QdrantProjectionCodec.CollectionFor(alias)) : null;
        if (existing is null)
        {
            if (marker is not null)
            {
                steps.Add(new StoreProjectionStep(marker.Collection, layout.Projection!));
            }

            steps.Add(CreateCollectionStep(QdrantCollections.Create(target, spec, marker)));
        }
        else if (!(existing.UnnamedVector is null &&
                   existing.NamedVectors.TryGetValue(store.PrefixVectorName, out var prefix) && Matches(prefix, layout.PrefixDimensions, layout.Metric) &&
                   existing.NamedVectors.TryGetValue(store.FullVectorName, out var full) && Matches(full, layout.FullDimensions, layout.Metric)))
        {
            throw new QdrantMigrationException(
                $"The target collection '{target}' exists but does not have the vectors '{store.PrefixVectorName}' and '{store.FullVectorName}' the layout needs. " +
                "Delete it or choose another QdrantMigrationOptions.TargetCollection.");
        }
        else if (NeedsProjection(existing, store, $"The target collection '{target}', left by an earlier run,"))
        {
            steps.Add(new StoreProjectionStep(marker!.Collection, layout.Projection!));
            steps.Add(SwitchProjectionStep(existing.CollectionName, store.PrefixVectorName, marker));
        }

        // Keyed by key path: the source's as Qdrant reports them (nested paths included), the store's top-level fields as filters write them.
        var indexes = new Dictionary<string, string>(source.PayloadIndexes, StringComparer.Ordinal);
        foreach (var index in store.PayloadIndexes)
        {
            var keyPath = QdrantFilterTranslator.KeyPath(index.Field);
            indexes[indexes.Keys.FirstOrDefault(k => QdrantFilterTranslator.SameKeyPath(k, keyPath)) ?? keyPath] =
                QdrantCollections.SchemaTypeName(QdrantCollections.SchemaType(index.Type));
        }

        foreach (var (keyPath, type) in indexes.OrderBy(i => i.Key, StringComparer.Ordinal))
        {
            if (existing is null || !existing.HasPayloadIndex(keyPath))
            {
                steps.Add(PayloadIndexStep(target, keyPath, QdrantCollections.ParseSchemaType(type)));
            }
        }

        steps.Add(new CopyStep(source.Name, sourceVector, target));
        steps.Add(SwitchAliasStep(alias, target, state.Aliases.ContainsKey(alias)));

        List<string> notes =
        [
            $"Writes to '{source.Name}' after their points are copied do not reach '{target}': stop writers during the copy, or run it again before relying on the switch.",
            $"The old collection '{source.CollectionName}' is kept; delete it once no reader uses it.",
        ];
        if (source.PayloadIndexes.Count > 0)
        {
            notes.Add("Payload indexes are created again with their type only; index parameters (tokenizer, is_tenant, on_disk) are not copied.");
        }

        if (!state.Aliases.ContainsKey(alias))
        {
            notes.Add($"Alias '{alias}' is new: readers (and QdrantStoreOptions.Collection) must use '{alias}' from now on.");
        }

        if (marker is not null)
        {
            notes.Add(ProjectionNote(store, marker));
        }

        return new QdrantMigrationPlan(state.Version, QdrantMigrationPath.NewCollection, source, sourceVector, target, alias, notes, steps, store, options);
    }

    /// <summary>
    /// Whether <paramref name="collection"/> still needs the layout's projection stored and recorded: false when it records
    /// that projection already (a rerun goes on with it) or the layout truncates and it records none.
    /// </summary>
    /// <exception cref="QdrantMigrationException">It records another projection, or one where the layout truncates: writing
    /// other keys into the same vector would mix two kinds of keys.</exception>
    private static bool NeedsProjection(QdrantCollectionInfo collection, QdrantStoreOptions store, string subject)
    {
        var projection = store.Layout!.Projection;
        if (!collection.Projections.TryGetValue(store.PrefixVectorName, out var recorded))
        {
            return projection is not null;
        }

        if (projection is not null && recorded.Describes(projection))
        {
            return false;
        }

        throw new QdrantMigrationException(string.Create(CultureInfo.InvariantCulture,
            $"{subject} records that the keys of '{store.PrefixVectorName}' are computed with projection version {recorded.Version} ({recorded.Rows} × {recorded.Columns}), " +
            $"{(projection is null ? "and the layout truncates" : $"not with {projection}")}. " +
            $"Writing other keys into it would mix two kinds of keys. To go on with that projection, migrate with the layout QdrantMigrator.ReadLayoutAsync reads " +
            $"(`mrl migrate qdrant --projection` reuses it); for another key, choose another PrefixVectorName (--prefix-vector)."));
    }

    private static string ProjectionNote(QdrantStoreOptions store, QdrantProjectionInfo marker)
    {
        var projection = store.Layout!.Projection!;
        return string.Create(CultureInfo.InvariantCulture,
            $"The directions of {projection} are stored in '{marker.Collection}' before anything else, and the metadata of the " +
            $"collection names that version for '{store.PrefixVectorName}'; the keys cannot be reproduced without that collection: keep it (and its snapshots). " +
            $"Writers compute keys in process: restart them with the layout QdrantMigrator.ReadLayoutAsync reads, and run the migration again to redo keys written meanwhile.");
    }

    /// <summary>The new collection's name when none is given: the source collection's name followed by <c>-mrl</c>.</summary>
    internal static string DefaultTarget(string sourceCollection) => sourceCollection + "-mrl";

    /// <summary>The name of the source's full vector (null for the unnamed one), checked against the layout.</summary>
    private static string? SourceVector(QdrantCollectionInfo source, QdrantStoreOptions store, QdrantMigrationOptions options)
    {
        var layout = store.Layout!;
        var (name, vector) = FindSourceVector(source, store.FullVectorName, options.SourceVectorName);
        if (!Matches(vector, layout.FullDimensions, layout.Metric))
        {
            throw new QdrantMigrationException(string.Create(CultureInfo.InvariantCulture,
                $"The {(name is null ? "unnamed vector" : $"vector '{name}'")} of '{source.Name}' has {vector.Size} dimensions and distance {vector.Distance}; " +
                $"the layout ({layout}) needs {layout.FullDimensions} dimensions and {QdrantDistance.For(layout.Metric)}."));
        }

        return name;
    }

    /// <summary>
    /// The vector that holds the full embeddings: <paramref name="sourceVectorName"/> when given, else the single unnamed
    /// vector when the collection has one, else <paramref name="fullVectorName"/>; its name is null for the unnamed one.
    /// </summary>
    /// <exception cref="QdrantMigrationException">The collection has no such vector.</exception>
    internal static (string? Name, QdrantVectorInfo Vector) FindSourceVector(QdrantCollectionInfo source, string fullVectorName, string? sourceVectorName)
    {
        if (source.UnnamedVector is { } unnamed && sourceVectorName is null)
        {
            return (null, unnamed);
        }

        var name = sourceVectorName ?? fullVectorName;
        if (!source.NamedVectors.TryGetValue(name, out var vector))
        {
            var names = source.NamedVectors.Count == 0 ? "none" : string.Join(", ", source.NamedVectors.Keys.Select(n => $"'{n}'"));
            throw new QdrantMigrationException(
                $"Collection '{source.Name}' has no vector '{name}' (named vectors: {names}). Set QdrantMigrationOptions.SourceVectorName to the vector that holds the full embeddings.");
        }

        return (name, vector);
    }

    private static bool Matches(QdrantVectorInfo vector, int dimensions, DistanceMetric metric) =>
        vector.Size == dimensions && string.Equals(vector.Distance, QdrantDistance.For(metric), StringComparison.Ordinal);

    /// <summary>The scroll message that reads one page of <paramref name="collection"/> with one vector (or the unnamed one when <paramref name="vectorName"/> is null).</summary>
    internal static Proto.ScrollPoints Scroll(string collection, QdrantPointId? offset, int limit, string? vectorName, bool withPayload)
    {
        var scroll = new Proto.ScrollPoints
        {
            CollectionName = collection,
            Limit = (uint)limit,
            WithPayload = new Proto.WithPayloadSelector { Enable = withPayload },
            WithVectors = vectorName is null
                ? new Proto.WithVectorsSelector { Enable = true }
                : new Proto.WithVectorsSelector { Include = new Proto.VectorsSelector { Names = { vectorName } } },
        };
        if (offset is { } start)
        {
            scroll.Offset = QdrantProtos.PointId(start);
        }

        return scroll;
    }

    private static SendStep CreateVectorStep(Proto.CreateVectorNameRequest request) =>
        new("qdrant.Points/CreateVectorName", request, async (client, calls, cancellationToken) =>
            await calls.RunAsync("CreateVectorName", async ct =>
            {
                var result = await client.CreateVectorNameAsync(request, ct).ConfigureAwait(false);
                QdrantCollections.EnsureApplied(result, "CreateVectorName", request.CollectionName);
            }, cancellationToken).ConfigureAwait(false));

    private static SendStep CreateCollectionStep(Proto.CreateCollection request) =>
        new("qdrant.Collections/Create", request, (client, calls, cancellationToken) =>
            calls.RunAsync("CreateCollection", ct => client.CreateCollectionAsync(request, ct), cancellationToken));

    private static SendStep SwitchProjectionStep(string collection, string prefixVectorName, QdrantProjectionInfo marker) =>
        new("qdrant.Collections/Update", QdrantProjections.Switch(collection, prefixVectorName, marker), (client, calls, cancellationToken) =>
            QdrantProjections.SwitchAsync(client, calls, collection, prefixVectorName, marker, cancellationToken));

    private static SendStep PayloadIndexStep(string collection, string keyPath, Proto.PayloadSchemaType type) =>
        new("qdrant.Points/CreateFieldIndex",
            new Proto.CreateFieldIndexCollection { CollectionName = collection, FieldName = keyPath, FieldType = FieldType(type), Wait = true },
            (client, calls, cancellationToken) => QdrantCollections.CreatePayloadIndexAsync(client, calls, collection, keyPath, type, cancellationToken));

    private static SendStep SwitchAliasStep(string alias, string collection, bool aliasExists)
    {
        var change = new Proto.ChangeAliases();
        if (aliasExists)
        {
            change.Actions.Add(new Proto.AliasOperations { DeleteAlias = new Proto.DeleteAlias { AliasName = alias } });
        }

        change.Actions.Add(new Proto.AliasOperations { CreateAlias = new Proto.CreateAlias { AliasName = alias, CollectionName = collection } });
        return new SendStep("qdrant.Collections/UpdateAliases", change, (client, calls, cancellationToken) =>
            calls.RunAsync("UpdateAliases", ct => client.UpdateAliasesAsync(change.Actions, cancellationToken: ct), cancellationToken));
    }

    // The field type a CreateFieldIndexCollection message carries for a payload schema type (what the client sends).
    private static Proto.FieldType FieldType(Proto.PayloadSchemaType type) => type switch
    {
        Proto.PayloadSchemaType.Keyword => Proto.FieldType.Keyword,
        Proto.PayloadSchemaType.Integer => Proto.FieldType.Integer,
        Proto.PayloadSchemaType.Float => Proto.FieldType.Float,
        Proto.PayloadSchemaType.Geo => Proto.FieldType.Geo,
        Proto.PayloadSchemaType.Text => Proto.FieldType.Text,
        Proto.PayloadSchemaType.Bool => Proto.FieldType.Bool,
        Proto.PayloadSchemaType.Datetime => Proto.FieldType.Datetime,
        Proto.PayloadSchemaType.Uuid => Proto.FieldType.Uuid,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown payload schema type."),
    };

    // How the backfill and the copy compute each point's key, computed in process through the layout.
    private string Key(string fullVectorName)
    {
        var layout = Store.Layout!;
        var normalized = layout.NormalizesPrefix ? ", renormalized" : "";
        return layout.Projection is { } projection
            ? string.Create(CultureInfo.InvariantCulture, $"P·x for x its '{fullVectorName}', P the {projection}{normalized}")
            : string.Create(CultureInfo.InvariantCulture, $"the first {layout.PrefixDimensions} values of '{fullVectorName}'{normalized}");
    }

    private IEnumerable<QdrantRequestPreview> Preview(QdrantMigrationStep step)
    {
        var pages = PointsTotal is { } n
            ? string.Create(CultureInfo.InvariantCulture, $"~{(n + BatchSize - 1) / BatchSize} pages of {BatchSize} points")
            : string.Create(CultureInfo.InvariantCulture, $"pages of {BatchSize} points");
        switch (step)
        {
            case SendStep send:
                yield return QdrantRequestPreview.From(send.Call, send.Request);
                break;
            case StoreProjectionStep stored:
                var projection = stored.Projection;
                yield return QdrantRequestPreview.From("qdrant.Collections/Create", QdrantProjections.CreateCollection(stored.Collection, projection.Columns, Store),
                    "unless it exists: the side collection of the projection's directions");
                yield return QdrantRequestPreview.From("qdrant.Points/CreateFieldIndex",
                    new Proto.CreateFieldIndexCollection { CollectionName = stored.Collection, FieldName = QdrantProjectionCodec.VersionField, FieldType = Proto.FieldType.Integer, Wait = true },
                    "unless it exists");
                yield return QdrantRequestPreview.From("qdrant.Points/Scroll", QdrantProjections.Scroll(stored.Collection, projection.Version, projection.Columns),
                    "the directions of this version stored already (an earlier run); other values under it are refused, since a version is written once");
                yield return new QdrantRequestPreview("qdrant.Points/Upsert", null, string.Create(CultureInfo.InvariantCulture,
                    $"unless all are there, with wait, into '{stored.Collection}': the {projection.Rows} directions of {projection} ({projection.Columns} values each) as points " +
                    $"{QdrantProjectionCodec.PointId(projection.Version, 0)} to {QdrantProjectionCodec.PointId(projection.Version, projection.Rows - 1)} with payload " +
                    $"'{QdrantProjectionCodec.VersionField}' and '{QdrantProjectionCodec.RowField}'; split to stay under {Store.MaxRequestBytes} bytes"));
                break;
            case BackfillStep backfill:
                yield return QdrantRequestPreview.From("qdrant.Points/Scroll",
                    Scroll(backfill.Collection, ResumeFrom, BatchSize, backfill.FullVectorName, withPayload: false),
                    $"repeated with offset = next_page_offset until the scroll ends ({pages})");
                yield return new QdrantRequestPreview("qdrant.Points/UpdateVectors", null,
                    string.Create(CultureInfo.InvariantCulture,
                        $"for each page, with wait: '{Store.PrefixVectorName}' set to {Key(backfill.FullVectorName)} on '{backfill.Collection}'; split to stay under {Store.MaxRequestBytes} bytes"));
                break;
            case CopyStep copy:
                yield return QdrantRequestPreview.From("qdrant.Points/Scroll",
                    Scroll(copy.Source, ResumeFrom, BatchSize, copy.SourceVectorName, withPayload: true),
                    $"repeated with offset = next_page_offset until the scroll ends ({pages})");
                yield return new QdrantRequestPreview("qdrant.Points/Upsert", null,
                    string.Create(CultureInfo.InvariantCulture,
                        $"for each page, with wait, into '{copy.Target}': the same ids and payloads with '{Store.FullVectorName}' and '{Store.PrefixVectorName}' " +
                        $"({Key(Store.FullVectorName)}); split to stay under {Store.MaxRequestBytes} bytes"));
                break;
        }
    }
}
