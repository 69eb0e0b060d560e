using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Mrl.Adapters;
using Mrl.Adapters.Caching;
using Mrl.Adapters.Pgvector;
using Mrl.Bench.Synthetic;
using Mrl.Bench;

namespace Mrl.Cli.Commands;

/// <summary>The options <c>mrl bench</c> and <c>mrl tune</c> share: the data, the backend and the sweep.</summary>
internal sealed class BenchOptions
{
    /// <summary>
    /// The synthetic data's default difficulty, calibrated so that full-dimension HNSW at pgvector's default ef_search (40)
    /// stays below recall@10 0.99 (docs/benchmarks.md, "Calibration"): on easier data every method scores 1.0 and the
    /// comparison says nothing.
    /// </summary>
    public const double DefaultDifficulty = 2.0;

    /// <summary>
    /// The baselines' HNSW m and ef_construction: chosen so that full-dimension HNSW reaches recall@10 0.99 on the default
    /// data (docs/benchmarks.md, "Stronger baselines"), where the prefix indexes' m = 16, ef_construction = 64 stop short of it.
    /// </summary>
    public const int DefaultFullM = 32;

    /// <inheritdoc cref="DefaultFullM"/>
    public const int DefaultFullEfConstruction = 128;

    public Option<int> Count { get; } = new("--count") { Description = "Synthetic base vectors (with --base: read at most this many).", DefaultValueFactory = _ => 200_000 };

    public Option<int> Dims { get; } = new("--dims") { Description = "Full dimensions of the synthetic vectors.", DefaultValueFactory = _ => 768 };

    public Option<string> Queries { get; } = new("--queries") { Description = "Number of synthetic queries, or with --base a .fvecs/.npy file of queries.", DefaultValueFactory = _ => "1000" };

    public Option<double> Difficulty { get; } = new("--difficulty") { Description = "Spread of the synthetic clusters (higher is harder).", DefaultValueFactory = _ => DefaultDifficulty };

    public Option<int> Seed { get; } = new("--seed") { Description = "Seed of the synthetic data.", DefaultValueFactory = _ => 42 };

    public Option<string?> Base { get; } = new("--base") { Description = "Base vectors from a file instead of synthetic data: .fvecs or .npy (float32, 2-D)." };

    public Option<string?> SourceTable { get; } = new("--source-table") { Description = "An existing pgvector table (name or schema.name) to take the data from, read-only: --queries of its rows are held out as queries; the backends search a copy. Needs --connection." };

    public Option<string> KeyColumn { get; } = new("--key-column") { Description = "With --source-table: the key column rows are read in the order of.", DefaultValueFactory = _ => "id" };

    public Option<string> VectorColumn { get; } = new("--vector-column") { Description = "With --source-table: the full-vector column (vector or halfvec).", DefaultValueFactory = _ => "embedding" };

    public Option<string?> ScopeColumn { get; } = new("--scope-column") { Description = "With --source-table: the column that tells collections in one table apart (LangChain: collection_id); with --scope-value only that collection's rows are read." };

    public Option<string?> ScopeValue { get; } = new("--scope-value") { Description = "With --source-table and --scope-column: the collection's value (a uuid, a number or a name)." };

    public Option<string?> Truth { get; } = new("--truth") { Description = "True neighbours of the queries (.ivecs or .npy, 0-based row ids); computed exactly when left out." };

    public Option<DistanceMetric> Metric { get; } = new("--metric") { Description = "Cosine, DotProduct or Euclidean (synthetic data is unit length: Cosine).", DefaultValueFactory = _ => DistanceMetric.Cosine };

    public Option<int> K { get; } = new("--k") { Description = "Hits per query; recall@k.", DefaultValueFactory = _ => 10 };

    public Option<string> TruthCache { get; } = new("--truth-cache") { Description = "Folder for computed ground truth, keyed by the data's SHA-256; 'none' to disable.", DefaultValueFactory = _ => GroundTruth.DefaultCacheDirectory };

    public Option<string> Backend { get; } = new("--backend") { Description = "memory, postgres or qdrant (bench: a comma-separated list).", DefaultValueFactory = _ => "memory" };

    public Option<string?> Connection { get; } = new("--connection", "-c") { Description = "Npgsql connection string, for --backend postgres and --source-table." };

    public Option<string?> Url { get; } = new("--url") { Description = "Qdrant gRPC endpoint, e.g. http://localhost:6334, for --backend qdrant." };

    public Option<string?> ApiKey { get; } = new("--api-key") { Description = "Qdrant API key (default: the MRL_QDRANT_API_KEY environment variable). Never printed." };

    public Option<string?> Collection { get; } = new("--collection") { Description = "Qdrant collections' name; each prefix size gets <name>_p<p>, deleted and re-created. Default mrl_bench_<data hash>." };

    public Option<string?> Table { get; } = new("--table") { Description = "PostgreSQL scratch table (name or schema.name), dropped and re-created. Default mrl_bench_<data hash>." };

    public Option<bool> KeepTable { get; } = new("--keep-table") { Description = "Leave the PostgreSQL table and the Qdrant collections in place at the end." };

    public Option<bool> ReuseTable { get; } = new("--reuse-table") { Description = "Measure on the PostgreSQL table and indexes an earlier --keep-table run left, when they hold this data and were built with these parameters (else it says what differs); load and build only when there is no table. Keeps the table." };

    public Option<string?> DbMemoryLimit { get; } = new("--db-memory-limit") { Description = "Run the measurements with the local PostgreSQL server in a cgroup v1 memory group of this size (e.g. 2GB; page cache included) for the cached strategies, and this plus the cache's size for the others. Needs root and shared_buffers at most half of it." };

    public Option<VectorType?> FullType { get; } = new("--full-type") { Description = "Vector or HalfVec for the full column. Default: Vector up to 1,900 dims, HalfVec above (so it stays inline)." };

    public Option<int?> ParallelWorkers { get; } = new("--parallel-workers") { Description = "The table's parallel_workers for every index build. Default: the server's max_parallel_maintenance_workers." };

    public Option<string> MaintenanceWorkMem { get; } = new("--maintenance-work-mem") { Description = "maintenance_work_mem for the index builds.", DefaultValueFactory = _ => "2GB" };

    public Option<int> HnswM { get; } = new("--m") { Description = "HNSW m of the prefix indexes.", DefaultValueFactory = _ => 16 };

    public Option<int> EfConstruction { get; } = new("--ef-construction") { Description = "HNSW ef_construction of the prefix indexes.", DefaultValueFactory = _ => 64 };

    public Option<int> FullM { get; } = new("--full-m") { Description = "HNSW m of the baselines' indexes on PostgreSQL (full and bq-rerank).", DefaultValueFactory = _ => DefaultFullM };

    public Option<int> FullEfConstruction { get; } = new("--full-ef-construction") { Description = "HNSW ef_construction of the baselines' indexes on PostgreSQL (full and bq-rerank).", DefaultValueFactory = _ => DefaultFullEfConstruction };

    public Option<CacheStorage> CacheStorage { get; } = new("--cache-storage") { Description = "FullPrecision (float32) or HalfPrecision (float16) in the full-vector cache.", DefaultValueFactory = _ => Adapters.Caching.CacheStorage.FullPrecision };

    public Option<string> PrefixDims { get; } = new("--prefix-dims") { Description = "Prefix sizes to index and sweep (each index built once).", DefaultValueFactory = _ => "64,128,256,512" };

    public Option<string> Oversampling { get; } = new("--oversampling") { Description = "Oversampling factors to sweep.", DefaultValueFactory = _ => "2,4,8,16,32" };

    public Option<string> EfSearch { get; } = new("--ef-search") { Description = "ef_search values to sweep (raised to the candidate count, as the stores do).", DefaultValueFactory = _ => "40,80,160,320,640" };

    public Option<PrefixKind> PrefixKind { get; } = new("--prefix-kind") { Description = "Truncate (the first values) or Projection (a key fitted to a sample of the base vectors; memory backend only).", DefaultValueFactory = _ => Adapters.PrefixKind.Truncate };

    public Option<bool?> ProjectionCentred { get; } = new("--projection-centred") { Description = "With --prefix-kind Projection: true fits around the mean, false does not. Default: as the metric decides (centred for Euclidean and Manhattan only)." };

    public Option<bool> Rotate { get; } = new("--rotate") { Description = "Multiply the synthetic vectors by a fixed random orthogonal matrix: data like a model trained without a Matryoshka loss." };

    public Option<SyntheticSpectrum> Spectrum { get; } = new("--spectrum") { Description = "Decaying (Matryoshka-like) or Flat variance over the synthetic dimensions.", DefaultValueFactory = _ => SyntheticSpectrum.Decaying };

    public Option<int> Warmup { get; } = new("--warmup") { Description = "Untimed queries before each measurement.", DefaultValueFactory = _ => 20 };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[]
        {
            Count, Dims, Queries, Difficulty, Seed, Base, SourceTable, KeyColumn, VectorColumn, ScopeColumn, ScopeValue, Truth, Metric, K, TruthCache, Backend, Connection, Url, ApiKey,
            Collection, Table, KeepTable, ReuseTable, DbMemoryLimit, FullType, ParallelWorkers, MaintenanceWorkMem, HnswM, EfConstruction, FullM, FullEfConstruction, CacheStorage,
            PrefixDims, Oversampling, EfSearch, Warmup, PrefixKind, ProjectionCentred, Rotate, Spectrum,
        })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The backends named by --backend, checked before any data is made.</summary>
    /// <exception cref="ArgumentException">A name is unknown, or a backend lacks its connection option.</exception>
    public IReadOnlyList<string> BackendNames(ParseResult parse, bool single)
    {
        var names = parse.GetValue(Backend)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(n => n.ToLowerInvariant()).Distinct().ToArray();
        if (names.Length == 0 || (single && names.Length > 1))
        {
            throw new ArgumentException(single ? "--backend: name one backend: memory, postgres or qdrant." : "--backend: name at least one of memory, postgres, qdrant.");
        }

        if (!names.Contains("postgres") && (parse.GetValue(ReuseTable) || parse.GetValue(DbMemoryLimit) is not null))
        {
            throw new ArgumentException("--reuse-table and --db-memory-limit apply to the PostgreSQL table; add postgres to --backend.");
        }

        if (parse.GetValue(ProjectionCentred) is not null && parse.GetValue(PrefixKind) != Adapters.PrefixKind.Projection)
        {
            throw new ArgumentException("--projection-centred chooses how a projected key is fitted; add --prefix-kind Projection.");
        }

        if (parse.GetValue(DbMemoryLimit) is { } limit)
        {
            BenchPlan.ParseBytes(limit, "--db-memory-limit");
        }

        foreach (var name in names)
        {
            switch (name)
            {
                case "memory":
                    break;
                case not "memory" when parse.GetValue(PrefixKind) == Adapters.PrefixKind.Projection:
                    throw new ArgumentException($"--prefix-kind Projection runs on the memory backend only so far, not on '{name}'.");
                case "postgres":
                    if (string.IsNullOrWhiteSpace(parse.GetValue(Connection)))
                    {
                        throw new ArgumentException("--backend postgres needs --connection \"Host=...;Username=...;Database=...\".");
                    }

                    break;
                case "qdrant":
                    if (!Uri.TryCreate(parse.GetValue(Url), UriKind.Absolute, out _))
                    {
                        throw new ArgumentException("--backend qdrant needs --url http://host:6334 (Qdrant's gRPC port).");
                    }

                    break;
                default:
                    throw new ArgumentException($"--backend: unknown backend '{name}'; use memory, postgres or qdrant.");
            }
        }

        return names;
    }

    public IBenchBackend CreateBackend(string name, BenchDataset data, ParseResult parse) => name switch
    {
        "memory" => new MemoryBenchBackend(data, parse.GetValue(PrefixKind), parse.GetValue(ProjectionCentred)),
        "postgres" => new PostgresBenchBackend(data, new PostgresBenchOptions(
            parse.GetValue(Connection)!,
            parse.GetValue(Table) ?? "mrl_bench_" + data.Identity[..12],
            parse.GetValue(FullType) ?? (data.Dimensions <= 1_900 ? VectorType.Vector : VectorType.HalfVec),
            parse.GetValue(ParallelWorkers),
            parse.GetValue(MaintenanceWorkMem)!,
            parse.GetValue(HnswM),
            parse.GetValue(EfConstruction),
            parse.GetValue(KeepTable),
            parse.GetValue(CacheStorage),
            parse.GetValue(FullM),
            parse.GetValue(FullEfConstruction),
            parse.GetValue(ReuseTable),
            parse.GetValue(DbMemoryLimit) is { } limit ? BenchPlan.ParseBytes(limit, "--db-memory-limit") : null)),
        "qdrant" => new QdrantBenchBackend(data, new QdrantBenchOptions(
            new Uri(parse.GetValue(Url)!),
            parse.GetValue(ApiKey) ?? Environment.GetEnvironmentVariable("MRL_QDRANT_API_KEY"),
            parse.GetValue(Collection) ?? "mrl_bench_" + data.Identity[..12],
            parse.GetValue(HnswM),
            parse.GetValue(EfConstruction),
            parse.GetValue(KeepTable),
            parse.GetValue(CacheStorage))),
        _ => throw new ArgumentException($"--backend: unknown backend '{name}'."),
    };

    /// <summary>
    /// Synthetic data, the rows of --source-table, or the files --base, --queries and --truth name; at most
    /// <paramref name="maxQueries"/> queries. <paramref name="rowsRead"/> hears how many rows of a source table are in.
    /// </summary>
    public async Task<BenchDataset> LoadDataAsync(ParseResult parse, int? maxQueries, Action<int> rowsRead, CancellationToken cancellationToken)
    {
        var queries = parse.GetValue(Queries)!;
        var isCount = int.TryParse(queries, NumberStyles.None, CultureInfo.InvariantCulture, out var queryCount);
        var countGiven = parse.GetResult(Count) is { Implicit: false };
        var (scopeColumn, scopeValue) = (parse.GetValue(ScopeColumn), parse.GetValue(ScopeValue));
        if (parse.GetValue(SourceTable) is null && (scopeColumn ?? scopeValue) is not null)
        {
            throw new ArgumentException("--scope-column and --scope-value choose one collection of a --source-table; give the table with --source-table.");
        }

        if (parse.GetValue(SourceTable) is { } sourceTable)
        {
            if (parse.GetValue(Base) is not null || parse.GetValue(Truth) is not null)
            {
                throw new ArgumentException("--source-table takes the base vectors and the queries from the table: leave out --base and --truth.");
            }

            if (!isCount || queryCount < 1)
            {
                throw new ArgumentException($"--queries: with --source-table, give the number of rows to hold out as queries, not '{queries}'.");
            }

            if (string.IsNullOrWhiteSpace(parse.GetValue(Connection)))
            {
                throw new ArgumentException("--source-table needs --connection \"Host=...;Username=...;Database=...\" (the table's server).");
            }

            if (parse.GetValue(Table) is { } scratch && SameTable(scratch, sourceTable))
            {
                throw new ArgumentException("--table names the scratch table that is dropped and re-created; it cannot be the --source-table.");
            }

            var source = new SourceTableOptions(parse.GetValue(Connection)!, sourceTable, parse.GetValue(KeyColumn)!, parse.GetValue(VectorColumn)!, scopeColumn, scopeValue);
            var held = Math.Min(queryCount, maxQueries ?? int.MaxValue);
            return await Mrl.Bench.SourceTable.ReadAsync(source, held, countGiven ? parse.GetValue(Count) : null, parse.GetValue(Seed), parse.GetValue(Metric),
                rowsRead, cancellationToken);
        }

        if (parse.GetValue(Base) is { } basePath)
        {
            if (isCount)
            {
                throw new ArgumentException("With --base, --queries must name a file of query vectors (.fvecs or .npy), not a count.");
            }

            if (parse.GetValue(Rotate) || parse.GetValue(Spectrum) != SyntheticSpectrum.Decaying)
            {
                throw new ArgumentException("--rotate and --spectrum shape synthetic data; they do not apply to --base files.");
            }

            return BenchDataset.FromFiles(basePath, queries, parse.GetValue(Truth), countGiven ? parse.GetValue(Count) : null, maxQueries, parse.GetValue(Metric));
        }

        if (parse.GetValue(Truth) is not null)
        {
            throw new ArgumentException("--truth gives the neighbours of file data: it needs --base and --queries FILE.");
        }

        if (!isCount || queryCount < 1)
        {
            throw new ArgumentException($"--queries: '{queries}' is not a positive number of synthetic queries; to read queries from a file, also give --base.");
        }

        if (parse.GetValue(Metric) != DistanceMetric.Cosine)
        {
            throw new ArgumentException("Synthetic vectors are unit length and searched by cosine; --metric applies to --base files.");
        }

        var options = new SyntheticCorpusOptions
        {
            Dimensions = parse.GetValue(Dims), Difficulty = parse.GetValue(Difficulty), Seed = parse.GetValue(Seed),
            Rotated = parse.GetValue(Rotate), Spectrum = parse.GetValue(Spectrum),
        };
        return BenchDataset.Synthetic(options, parse.GetValue(Count), Math.Min(queryCount, maxQueries ?? int.MaxValue));
    }

    private static bool SameTable(string a, string b) => SqlIdentifier.ParseQualified(a) == SqlIdentifier.ParseQualified(b);

    /// <summary>The prefix sizes below the full dimensions; the rest are dropped with a note.</summary>
    public IReadOnlyList<int> PrefixSizes(ParseResult parse, int dimensions, ICollection<string> notes)
    {
        var all = BenchPlan.ParseList(parse.GetValue(PrefixDims)!, "--prefix-dims");
        var usable = all.Where(p => p < dimensions).ToArray();
        foreach (var p in all.Except(usable))
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"prefix {p} skipped: not shorter than the {dimensions} full dimensions."));
        }

        return usable.Length > 0
            ? usable
            : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--prefix-dims: every prefix is at least the {dimensions} full dimensions."));
    }

    public string? TruthCacheDirectory(ParseResult parse) =>
        parse.GetValue(TruthCache) is { } folder && !folder.Equals("none", StringComparison.OrdinalIgnoreCase) ? folder : null;

    /// <summary>
    /// The command as parsed, every option in its long form and every secret left out (<see cref="CommandLineRedaction"/>): the
    /// report is meant to be shared. Built from the parse rather than from the raw arguments because an option's value may
    /// follow it, or be attached with '=' or ':', and a scan of the raw arguments missed the attached forms.
    /// </summary>
    public static string CommandLine(ParseResult parse)
    {
        var commands = new List<string>();
        for (var result = parse.CommandResult; result is not null && result.Command is not RootCommand; result = result.Parent as CommandResult)
        {
            commands.Insert(0, result.Command.Name);
        }

        var shown = new List<string> { "mrl" };
        shown.AddRange(commands);
        foreach (var option in parse.CommandResult.Children.OfType<OptionResult>().Where(o => !o.Implicit))
        {
            shown.Add(option.Option.Name);
            shown.AddRange(option.Tokens.Select(token => CommandLineRedaction.Show(option.Option.Name, token.Value)));
        }

        return string.Join(' ', shown);
    }
}
