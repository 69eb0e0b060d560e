using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace Mrl.Adapters.VectorData;

/// <summary>
/// Everything an adaptive collection does, for typed and dynamic records alike: the model, the store behind boxed keys,
/// embedding generation, filter translation, the two-pass search and the mapping of failures to <see cref="VectorStoreException"/>.
/// </summary>
internal sealed class CollectionCore<TRecord> where TRecord : class
{
    private static readonly VectorSearchOptions<TRecord> DefaultSearchOptions = new();
    private readonly IAdaptiveStoreFactory _factory;
    private readonly AdaptiveVectorStoreCollectionOptions _options;
    private readonly VectorPropertyModel _vector;
    private readonly ScoreMapping _scores;
    private readonly RecordMapper<TRecord> _mapper;
    private readonly KeyedStore _store;
    private readonly VectorStoreCollectionMetadata _metadata;
    private readonly MethodInfo? _generate;

    public CollectionCore(IAdaptiveStoreFactory factory, string name, CollectionModel model, AdaptiveVectorStoreCollectionOptions options, bool dynamic)
    {
        _factory = factory;
        Name = name;
        Model = model;
        _options = options;
        _vector = model.VectorProperty;
        _scores = ScoreMapping.For(_vector);
        Layout = new EmbeddingLayout(_vector.Dimensions, options.ResolvePrefixDimensions(_vector.Dimensions), _scores.Metric);
        _mapper = new RecordMapper<TRecord>(model, JsonSerializerOptions.Default, dynamic);
        _store = KeyedStore.Create(factory, name, model.KeyProperty.Type, Layout);
        _metadata = new VectorStoreCollectionMetadata { VectorStoreSystemName = factory.SystemName, CollectionName = name };
        _generate = model.EmbeddingGenerationRequired
            ? typeof(CollectionCore<TRecord>).GetMethod(nameof(GenerateAsync), BindingFlags.NonPublic | BindingFlags.Instance)!.MakeGenericMethod(_vector.Type)
            : null;
    }

    public string Name { get; }

    public CollectionModel Model { get; }

    public EmbeddingLayout Layout { get; }

    public Task<bool> CollectionExistsAsync(CancellationToken cancellationToken) =>
        RunAsync("CollectionExists", () => _factory.CollectionExistsAsync(Name, cancellationToken));

    public Task EnsureCollectionExistsAsync(CancellationToken cancellationToken) =>
        RunAsync("EnsureCollectionExists", async () =>
        {
            await _store.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
            return true;
        });

    public Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken) =>
        RunAsync("EnsureCollectionDeleted", async () =>
        {
            await _factory.DeleteCollectionAsync(Name, cancellationToken).ConfigureAwait(false);
            return true;
        });

    public async Task<TRecord?> GetAsync(object key, RecordRetrievalOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var includeVectors = CheckIncludeVectors(options?.IncludeVectors ?? false);
        var stored = await RunAsync("Get", () => _store.GetAsync(key, cancellationToken)).ConfigureAwait(false);
        return stored is { } record ? _mapper.ToRecord(record.Key, record.Payload, includeVectors ? (ReadOnlyMemory<float>?)record.Vector : null) : null;
    }

    public async IAsyncEnumerable<TRecord> GetAsync(
        System.Linq.Expressions.Expression<Func<TRecord, bool>> filter, int top, FilteredRecordRetrievalOptions<TRecord>? options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new FilteredRecordRetrievalOptions<TRecord>();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip, nameof(options.Skip));
        var includeVectors = CheckIncludeVectors(options.IncludeVectors);
        var translated = new LinqFilterTranslator().Translate(filter, Model);
        if (translated.MatchesNothing)
        {
            yield break;
        }

        var query = new RecordQueryOptions { Skip = options.Skip, OrderBy = SortFields(options), IncludeVectors = includeVectors };
        var records = await RunAsync("Get", () => _store.QueryAsync(translated.Filter, top, query, cancellationToken)).ConfigureAwait(false);
        foreach (var record in records)
        {
            yield return _mapper.ToRecord(record.Key, record.Payload, includeVectors ? (ReadOnlyMemory<float>?)record.Vector : null);
        }
    }

    public Task DeleteAsync(IEnumerable<object> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var list = keys.ToArray();
        return list.Length == 0 ? Task.CompletedTask : RunAsync("Delete", () => _store.DeleteAsync(list, cancellationToken));
    }

    public async Task UpsertAsync(IEnumerable<TRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        var list = records as IReadOnlyList<TRecord> ?? records.ToArray();
        if (list.Count == 0)
        {
            return;
        }

        var keys = new object[list.Count];
        for (var i = 0; i < list.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(list[i], nameof(records));
            keys[i] = _mapper.GetKey(list[i]);
        }

        var vectors = Model.EmbeddingGenerationRequired
            ? await GenerateForUpsertAsync(list, keys, cancellationToken).ConfigureAwait(false)
            : list.Select((r, i) => _mapper.GetVector(r, keys[i])).ToArray();

        var stored = new StoredRecord[list.Count];
        for (var i = 0; i < list.Count; i++)
        {
            stored[i] = new StoredRecord(keys[i], vectors[i], _mapper.GetPayload(list[i]));
        }

        await RunAsync("Upsert", async () =>
        {
            await _store.UpsertAsync(stored, cancellationToken).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<VectorSearchResult<TRecord>> SearchAsync<TInput>(
        TInput searchValue, int top, VectorSearchOptions<TRecord>? options, [EnumeratorCancellation] CancellationToken cancellationToken)
        where TInput : notnull
    {
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= DefaultSearchOptions;
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip, nameof(options.Skip));
        if (options.VectorProperty is not null)
        {
            // Resolves and checks the property the caller named; there is only one.
            Model.GetVectorPropertyOrSingle(options);
        }

        var includeVectors = CheckIncludeVectors(options.IncludeVectors);
        var filter = options.Filter is null ? default : new LinqFilterTranslator().Translate(options.Filter, Model);
        if (filter.MatchesNothing)
        {
            yield break;
        }

        var query = await QueryVectorAsync(searchValue, cancellationToken).ConfigureAwait(false);
        var adaptive = options as AdaptiveVectorSearchOptions<TRecord>;
        var searchOptions = new SearchOptions
        {
            K = checked(top + options.Skip),
            Oversampling = adaptive?.Oversampling ?? _options.Oversampling,
            Strategy = adaptive?.Strategy ?? _options.Strategy,
            EfSearch = adaptive?.EfSearch ?? _options.EfSearch,
            Filter = filter.Filter,
        };

        var hits = await RunAsync("Search", () => _store.SearchAsync(query, searchOptions, cancellationToken)).ConfigureAwait(false);
        foreach (var hit in hits.Skip(options.Skip))
        {
            var score = _scores.Convert(hit.Score);
            if (options.ScoreThreshold is { } threshold && !_scores.Passes(score, threshold))
            {
                continue;
            }

            ReadOnlyMemory<float>? vector = null;
            if (includeVectors)
            {
                // Hits carry payloads, not vectors: the full vector comes from one lookup per returned hit.
                var stored = await RunAsync("Search", () => _store.GetAsync(hit.Key, cancellationToken)).ConfigureAwait(false);
                vector = stored?.Vector;
            }

            yield return new VectorSearchResult<TRecord>(_mapper.ToRecord(hit.Key, hit.Payload, vector), score);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        return serviceType == typeof(VectorStoreCollectionMetadata) ? _metadata
            : serviceType == typeof(EmbeddingLayout) ? Layout
            : serviceType.IsInstanceOfType(_store.Store) ? _store.Store
            : serviceType.IsInstanceOfType(_factory) ? _factory
            : null;
    }

    private SortField[] SortFields(FilteredRecordRetrievalOptions<TRecord> options)
    {
        if (options.OrderBy is null)
        {
            return [];
        }

        var definition = options.OrderBy(new FilteredRecordRetrievalOptions<TRecord>.OrderByDefinition());
        return definition.Values.Select(sort => Model.GetDataOrKeyProperty(sort.PropertySelector) is DataPropertyModel data
            ? new SortField(data.StorageName, Descending: !sort.Ascending)
            : throw new NotSupportedException($"Records are ordered by data properties; '{sort.PropertySelector}' selects the key, which only breaks ties (ascending).")).ToArray();
    }

    private bool CheckIncludeVectors(bool includeVectors)
    {
        if (includeVectors && Model.EmbeddingGenerationRequired)
        {
            throw new NotSupportedException(VectorDataStrings.IncludeVectorsNotSupportedWithEmbeddingGeneration);
        }

        return includeVectors;
    }

    private async Task<ReadOnlyMemory<float>> QueryVectorAsync<TInput>(TInput searchValue, CancellationToken cancellationToken) where TInput : notnull
    {
        switch (searchValue)
        {
            case ReadOnlyMemory<float> memory:
                return memory;
            case Memory<float> memory:
                return memory;
            case float[] array:
                return array;
            case Embedding<float> embedding:
                return embedding.Vector;
        }

        if (_vector.EmbeddingGenerator is IEmbeddingGenerator<TInput, Embedding<float>> generator)
        {
            var embeddings = await RunAsync("Search", () => generator.GenerateAsync([searchValue], GenerationOptions(), cancellationToken)).ConfigureAwait(false);
            return CheckGenerated(embeddings, 1)[0];
        }

        throw _vector.EmbeddingGenerator is null
            ? new NotSupportedException(VectorDataStrings.InvalidSearchInputAndNoEmbeddingGeneratorWasConfigured(typeof(TInput), AdaptiveModelBuilder.SupportedVectorTypes))
            : new InvalidOperationException(VectorDataStrings.IncompatibleEmbeddingGeneratorWasConfiguredForInputType(typeof(TInput), _vector.EmbeddingGenerator.GetType()));
    }

    // One call to the generator for the whole batch, asking for the collection's full dimensions.
    private Task<ReadOnlyMemory<float>[]> GenerateForUpsertAsync(IReadOnlyList<TRecord> records, object[] keys, CancellationToken cancellationToken)
    {
        var inputs = new object[records.Count];
        for (var i = 0; i < inputs.Length; i++)
        {
            inputs[i] = _mapper.GetEmbeddingInput(records[i], keys[i]);
        }

        return (Task<ReadOnlyMemory<float>[]>)_generate!.Invoke(this, [inputs, cancellationToken])!;
    }

    private async Task<ReadOnlyMemory<float>[]> GenerateAsync<TInput>(object[] inputs, CancellationToken cancellationToken)
    {
        if (_vector.EmbeddingGenerator is not IEmbeddingGenerator<TInput, Embedding<float>> generator)
        {
            throw new InvalidOperationException(
                $"Vector property '{_vector.ModelName}' holds {typeof(TInput).Name} and needs an IEmbeddingGenerator<{typeof(TInput).Name}, Embedding<float>>; " +
                $"the one configured is {_vector.EmbeddingGenerator?.GetType().Name ?? "missing"}.");
        }

        var embeddings = await RunAsync("Upsert", () => generator.GenerateAsync(inputs.Cast<TInput>(), GenerationOptions(), cancellationToken)).ConfigureAwait(false);
        return CheckGenerated(embeddings, inputs.Length);
    }

    private EmbeddingGenerationOptions GenerationOptions() => new() { Dimensions = Layout.FullDimensions };

    private ReadOnlyMemory<float>[] CheckGenerated(GeneratedEmbeddings<Embedding<float>> embeddings, int expected)
    {
        if (embeddings.Count != expected)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The embedding generator returned {embeddings.Count} embeddings for {expected} inputs."));
        }

        var vectors = new ReadOnlyMemory<float>[expected];
        for (var i = 0; i < expected; i++)
        {
            vectors[i] = embeddings[i].Vector;
            if (vectors[i].Length != Layout.FullDimensions)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"The embedding generator returned {vectors[i].Length} dimensions although {Layout.FullDimensions} were asked for (EmbeddingGenerationOptions.Dimensions); vector property '{_vector.ModelName}' has {Layout.FullDimensions}."));
            }
        }

        return vectors;
    }

    /// <summary>Runs a store call; what the store or the network throws becomes a <see cref="VectorStoreException"/> naming the operation and collection.</summary>
    private async Task<T> RunAsync<T>(string operation, Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not (OperationCanceledException or ArgumentException or NotSupportedException or VectorStoreException))
        {
            throw new VectorStoreException($"{operation} on collection '{Name}' ({_factory.SystemName}) failed: {e.Message}", e)
            {
                VectorStoreSystemName = _factory.SystemName,
                CollectionName = Name,
                OperationName = operation,
            };
        }
    }
}
