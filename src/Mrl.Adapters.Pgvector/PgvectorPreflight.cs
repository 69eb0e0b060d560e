using System.Globalization;

namespace Mrl.Adapters.Pgvector;

/// <summary>What a preflight found: the problems that stop a migration, notes worth showing, and what is already in place.</summary>
internal sealed record PreflightResult(IReadOnlyList<string> Problems, IReadOnlyList<string> Notes, bool PrefixInPlace, bool IndexesInPlace);

/// <summary>
/// Decides, from a <see cref="PgvectorTableState"/> alone, whether a migration may start: every mistake a user can make with
/// names, dimensions, modes and re-runs is found here, before anything is changed, and each problem says what to type instead.
/// </summary>
internal sealed class PgvectorPreflight(PgvectorStoreOptions options, EmbeddingLayout layout, PgvectorTableState state)
{
    private readonly string _table = SqlIdentifier.Qualified(options.Schema, options.Table);
    private readonly List<string> _problems = [];
    private readonly List<string> _notes = [];

    public VectorType PrefixType => options.PrefixStorage == PrefixStorage.Expression ? VectorType.HalfVec : options.PrefixVectorType;

    /// <summary>The comment the migration puts on its functions: whose they are and the layout they compute.</summary>
    public string FunctionComment => string.Create(CultureInfo.InvariantCulture,
        $"{OwnerTag}{SqlIdentifier.Quote(options.VectorColumn)} -> {SqlIdentifier.Quote(options.ResolvedPrefixColumn)} " +
        $"{PgvectorTable.TypeName(PrefixType)}({layout.PrefixDimensions}) of {layout.FullDimensions} dimensions{(layout.NormalizesPrefix ? ", normalized" : "")}{ProjectionNote}");

    private string ProjectionNote => layout.Projection is { } projection
        ? string.Create(CultureInfo.InvariantCulture, $", projected by {SqlIdentifier.Quote(options.ProjectionTableName)} version {projection.Version}")
        : "";

    private string OwnerTag => $"mrl prefix of {_table}.";

    /// <summary>The full column's type, once the table is known to have one.</summary>
    public VectorType FullType => state.Columns.TryGetValue(options.VectorColumn, out var c) && c.Type == "halfvec" ? VectorType.HalfVec : VectorType.Vector;

    public PreflightResult CheckUp()
    {
        if (!CheckTable())
        {
            return Result(false, false);
        }

        CheckColumns();
        var prefixInPlace = options.PrefixStorage == PrefixStorage.Expression || CheckPrefixObjects();
        var indexesInPlace = CheckIndexes();
        return Result(prefixInPlace && _problems.Count == 0, indexesInPlace && _problems.Count == 0);
    }

    /// <summary>Only the table and its key and vector columns, for a caller that reads the dimension from the column next.</summary>
    public IReadOnlyList<string> CheckTableAndColumns()
    {
        if (CheckTable())
        {
            CheckColumns(checkDimension: false);
        }

        return _problems;
    }

    public PreflightResult CheckDown()
    {
        if (!CheckTable())
        {
            return Result(false, false);
        }

        foreach (var view in state.DependentViews)
        {
            _problems.Add($"View {view} uses the prefix column '{options.ResolvedPrefixColumn}'. Drop the view or redefine it without that column, then run --down again.");
        }

        CheckIndexOwnership(options.Schema, options.ResolvedIndexName(layout.PrefixDimensions), options.Schema, options.Table);
        CheckIndexOwnership(options.Schema, options.PendingIndexName(options.Table), options.Schema, options.Table);
        foreach (var partition in state.Partitions)
        {
            CheckIndexOwnership(partition.Schema, options.PartitionIndexName(partition.Name, layout.PrefixDimensions), partition.Schema, partition.Name);
            CheckIndexOwnership(partition.Schema, options.PendingIndexName(partition.Name), partition.Schema, partition.Name);
        }

        if (options.PrefixStorage == PrefixStorage.Column)
        {
            foreach (var function in state.Functions.Values.Where(f => !f.Comment.StartsWith(OwnerTag, StringComparison.Ordinal)))
            {
                _problems.Add($"Function {SqlIdentifier.Qualified(options.Schema, function.Name)} was not created by a migration of this table; it is left alone. Drop or rename it yourself if it is in the way.");
            }
        }

        return Result(false, false);
    }

    private PreflightResult Result(bool prefixInPlace, bool indexesInPlace) => new(_problems, _notes, prefixInPlace, indexesInPlace);

    private bool CheckTable()
    {
        if (!state.Exists)
        {
            _problems.Add(state.SimilarTables.Count > 0
                ? $"Table {_table} does not exist; names are case-sensitive. Did you mean {string.Join(" or ", state.SimilarTables)}? Pass that to --table."
                : $"Table {_table} does not exist. Check the name and schema (--table schema.name).");
            return false;
        }

        if (state.Kind is not ("r" or "p"))
        {
            _problems.Add($"{_table} is not a table (relkind '{state.Kind}'); only tables and partitioned tables can be migrated.");
            return false;
        }

        if (!state.CanAlter)
        {
            _problems.Add($"The current role cannot change {_table}: it is owned by '{state.Owner}'. Connect as '{state.Owner}' (or a role that is a member of it).");
        }

        foreach (var partition in state.Partitions.Where(p => p.IsPartitioned))
        {
            _problems.Add($"Partition {SqlIdentifier.Qualified(partition.Schema, partition.Name)} is partitioned itself; tables partitioned on more than one level are not supported yet.");
        }

        return true;
    }

    private void CheckColumns(bool checkDimension = true)
    {
        var names = string.Join(", ", state.Columns.Keys);
        if (!state.Columns.ContainsKey(options.KeyColumn))
        {
            _problems.Add($"{_table} has no column '{options.KeyColumn}' (its columns: {names}). Pass the primary key to --key-column.");
        }

        if (options.ScopeColumn is { } scope && !state.Columns.ContainsKey(scope))
        {
            _problems.Add($"{_table} has no column '{scope}' (its columns: {names}) to scope the prefix index to. Pass the column that tells collections apart to --scope-column.");
        }

        if (!state.Columns.TryGetValue(options.VectorColumn, out var vector))
        {
            _problems.Add($"{_table} has no column '{options.VectorColumn}' (its columns: {names}). Pass the vector column to --vector-column.");
            return;
        }

        if (vector.Type is not ("vector" or "halfvec"))
        {
            _problems.Add($"Column '{options.VectorColumn}' of {_table} is {vector.Type}; the vector column must be pgvector's vector or halfvec.");
            return;
        }

        if (!checkDimension)
        {
            return;
        }

        if (vector.Modifier > 0 && vector.Modifier != layout.FullDimensions)
        {
            _problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"Column '{options.VectorColumn}' of {_table} is {vector.Type}({vector.Modifier}), but the migration was given {layout.FullDimensions} dimensions. Pass --dims {vector.Modifier}, or leave --dims out to read it from the column."));
        }

        if (vector.Modifier < 0)
        {
            CheckUndeclaredDimension();
        }
    }

    private void CheckUndeclaredDimension()
    {
        var sample = state.DimensionSample ?? new Dictionary<int, long>();
        var found = string.Join(", ", sample.Select(d => string.Create(CultureInfo.InvariantCulture, $"{d.Key} ({d.Value} rows)")));
        if (options.PrefixStorage == PrefixStorage.Expression)
        {
            _problems.Add($"Column '{options.VectorColumn}' of {_table} declares no dimension, so an expression index would make every insert of another size fail. Use --mode Column: its trigger leaves rows of other sizes without a prefix.");
        }
        else if (sample.Count > 0 && !sample.ContainsKey(layout.FullDimensions))
        {
            _problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"Column '{options.VectorColumn}' of {_table} declares no dimension, and none of the first {PgvectorTableState.DimensionSampleRows} vectors has {layout.FullDimensions} dimensions; they have: {found}. Pass --dims with one of these."));
        }
        else if (sample.Count > 1)
        {
            _notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{_table} holds vectors of several sizes ({found}): only rows of {layout.FullDimensions} dimensions get a prefix; the others keep a NULL prefix and are written as before."));
        }
    }

    /// <summary>The prefix column, the two functions and the trigger: each is either absent (to be made) or exactly what this run would make.</summary>
    private bool CheckPrefixObjects()
    {
        var inPlace = true;
        var hint = " To change it: run this migration with --down and the parameters of the earlier run, then run it again with the new ones.";
        if (state.Columns.TryGetValue(options.ResolvedPrefixColumn, out var prefix))
        {
            var expected = PgvectorTable.TypeName(PrefixType);
            if (prefix.Type != expected || prefix.Modifier != layout.PrefixDimensions)
            {
                var actual = prefix.Modifier > 0 ? string.Create(CultureInfo.InvariantCulture, $"{prefix.Type}({prefix.Modifier})") : prefix.Type;
                _problems.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{_table} already has a column '{options.ResolvedPrefixColumn}' of type {actual}; this run would make it {expected}({layout.PrefixDimensions}).") + hint);
            }
        }
        else
        {
            inPlace = false;
        }

        // Functions of a migration of a table of this name that is gone (dropped and made again): nothing of the table uses
        // them, so they are replaced rather than taken for an earlier migration of this table.
        var leftover = !state.Columns.ContainsKey(options.ResolvedPrefixColumn) && state.Triggers.All(t => t.Name != options.TriggerName);
        var reported = false;
        foreach (var name in new[] { options.TriggerName, options.PrefixFunctionName })
        {
            if (!state.Functions.TryGetValue(name, out var function))
            {
                inPlace = false;
                continue;
            }

            var qualifiedFunction = SqlIdentifier.Qualified(options.Schema, name);
            if (!function.Comment.StartsWith(OwnerTag, StringComparison.Ordinal))
            {
                _problems.Add($"A function {qualifiedFunction} already exists and was not created by a migration of {_table}. Drop or rename it; it will not be replaced.");
            }
            else if (!function.OwnedByCurrentRole)
            {
                _problems.Add($"Function {qualifiedFunction} is owned by another role; it will not be replaced. Connect as its owner.");
            }
            else if (function.Comment != FunctionComment && leftover)
            {
                _notes.Add($"Function {qualifiedFunction} is left from an earlier migration of a table of this name that no longer uses it; it will be replaced.");
            }
            else if (function.Comment != FunctionComment && !reported)
            {
                reported = true;
                _problems.Add($"{_table} was migrated before with other parameters ({function.Comment[OwnerTag.Length..]}); this run asks for {FunctionComment[OwnerTag.Length..]}." + hint);
            }
        }

        var pending = options.PendingIndexName(options.Table);
        if (state.Index(options.Schema, pending) is null)
        {
            inPlace = false;
        }
        else if (CheckIndexOwnership(options.Schema, pending, options.Schema, options.Table) && state.Index(options.Schema, pending)!.Method != "btree")
        {
            _problems.Add($"Index {SqlIdentifier.Qualified(options.Schema, pending)} exists on {_table} but is not the migration's partial index of rows without a prefix. Drop or rename it.");
        }

        var trigger = state.Triggers.FirstOrDefault(t => t.Name == options.TriggerName);
        if (trigger is null)
        {
            inPlace = false;
        }
        else if (trigger.FunctionSchema != options.Schema || trigger.FunctionName != options.TriggerName)
        {
            _problems.Add($"{_table} already has a trigger '{trigger.Name}' that calls {SqlIdentifier.Qualified(trigger.FunctionSchema, trigger.FunctionName)}, not this migration's function. Drop or rename it.");
        }

        return inPlace;
    }

    private bool CheckIndexes()
    {
        var parent = options.ResolvedIndexName(layout.PrefixDimensions);
        var inPlace = CheckIndex(options.Schema, parent, options.Schema, options.Table);
        foreach (var partition in state.Partitions.Where(p => !p.IsPartitioned && !state.IsAttached(parent, p)))
        {
            inPlace &= CheckIndex(partition.Schema, options.PartitionIndexName(partition.Name, layout.PrefixDimensions), partition.Schema, partition.Name);
        }

        if (state.IsPartitioned)
        {
            _notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{_table} is partitioned ({state.Partitions.Count} partitions): each partition's index is built concurrently, then the parent's index is created ON ONLY and the partitions' indexes attached. Partitions added later get their index from PostgreSQL."));
        }

        return inPlace;
    }

    /// <summary>Whether the index exists, valid and as this run would build it; a problem when it exists and is something else.</summary>
    private bool CheckIndex(string schema, string name, string tableSchema, string table)
    {
        if (state.Index(schema, name) is not { } index)
        {
            return false;
        }

        var qualifiedIndex = SqlIdentifier.Qualified(schema, name);
        if (!CheckIndexOwnership(schema, name, tableSchema, table))
        {
            return false;
        }

        var opclass = PgvectorTable.OperatorClass(PrefixType, layout.Metric);
        var column = options.PrefixStorage == PrefixStorage.Column ? options.ResolvedPrefixColumn : null;
        if (index.Method != "hnsw" || index.FirstColumn != column || index.OperatorClass != opclass)
        {
            _problems.Add($"Index {qualifiedIndex} exists on {_table} but is not the HNSW index this migration builds ({index.Method} on {index.FirstColumn ?? "an expression"} with {index.OperatorClass}, not hnsw on {column ?? "the prefix expression"} with {opclass}). Drop or rename it.");
            return false;
        }

        if (!index.Valid && !index.Partitioned)
        {
            _notes.Add($"Index {qualifiedIndex} is INVALID (an interrupted build): it will be dropped and built again.");
            return false;
        }

        var m = index.Option("m") ?? 16;
        var efConstruction = index.Option("ef_construction") ?? 64;
        if (m != options.HnswM || efConstruction != options.HnswEfConstruction)
        {
            _problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"Index {qualifiedIndex} was built with m = {m}, ef_construction = {efConstruction}; this run asks for m = {options.HnswM}, ef_construction = {options.HnswEfConstruction}. To rebuild it: run with --down and the earlier parameters, then again with the new ones (or pass --m {m} --ef-construction {efConstruction} to keep it)."));
            return false;
        }

        return index.Valid;
    }

    /// <summary>An index with the migration's name on another table is someone else's: never build around it or drop it.</summary>
    private bool CheckIndexOwnership(string schema, string name, string tableSchema, string table)
    {
        if (state.Index(schema, name) is { } index && (index.TableSchema != tableSchema || index.Table != table))
        {
            _problems.Add($"An index named {SqlIdentifier.Qualified(schema, name)} already exists on {SqlIdentifier.Qualified(index.TableSchema, index.Table)}, not on {SqlIdentifier.Qualified(tableSchema, table)}: it is not this migration's. Drop or rename it.");
            return false;
        }

        return true;
    }
}
