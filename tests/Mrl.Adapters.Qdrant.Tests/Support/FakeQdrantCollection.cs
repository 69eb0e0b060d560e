using Google.Protobuf;
using Google.Protobuf.Collections;
using Grpc.Core;
using Qdrant.Client.Grpc;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests.Support;

/// <summary>
/// One collection kept in memory behind a <see cref="FakeQdrantServer"/>, answering the calls the store and the
/// migrator make: collection info, create and update (its metadata, merged by key), payload indexes, upsert, retrieve,
/// count, query (with prefetch), delete, scroll, update vectors and create vector. Count, query and scroll evaluate
/// filters with <see cref="QdrantFilterModel"/>; query ranks by dot product on the named vector. Several collections on
/// one server each answer the calls that name them and pass the others on to the one made before. It lets a flow run
/// end to end and be compared with the in-memory store; it is not Qdrant and proves nothing about a server.
/// </summary>
internal sealed class FakeQdrantCollection
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, PointStruct> _points = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PayloadSchemaType> _payloadSchema = new(StringComparer.Ordinal);
    private readonly MapField<string, Value> _metadata = [];
    private readonly FakeQdrantServer _server;
    private readonly string _name;
    private VectorsConfig? _vectors;
    private ulong _operation;

    /// <param name="server">Where the answers go.</param>
    /// <param name="name">The collection name.</param>
    /// <param name="vectors">The collection's vectors when it exists before the first create; null when it does not exist.</param>
    public FakeQdrantCollection(FakeQdrantServer server, string name = "docs", VectorsConfig? vectors = null)
    {
        _name = name;
        _vectors = vectors;
        _server = server;
        Route<GetCollectionInfoRequest>("qdrant.Collections/Get", r => r.CollectionName, r => Locked(() => Info(r.CollectionName)));
        Route<CreateCollection>("qdrant.Collections/Create", r => r.CollectionName, r => Locked(() =>
        {
            Check(r.CollectionName, exists: false);
            _vectors = r.VectorsConfig;
            _metadata.Add(r.Metadata);
            return new CollectionOperationResponse { Result = true };
        }));
        Route<UpdateCollection>("qdrant.Collections/Update", r => r.CollectionName, r => Locked(() =>
        {
            Check(r.CollectionName);
            foreach (var (key, value) in r.Metadata)
            {
                if (value.KindCase == Value.KindOneofCase.NullValue)
                {
                    _metadata.Remove(key);
                }
                else
                {
                    _metadata[key] = value;
                }
            }

            return new CollectionOperationResponse { Result = true };
        }));
        Route<CreateFieldIndexCollection>("qdrant.Points/CreateFieldIndex", r => r.CollectionName, r => Locked(() =>
        {
            Check(r.CollectionName);
            _payloadSchema[r.FieldName] = (PayloadSchemaType)(int)r.FieldType + 1;
            return Completed();
        }));
        Route<UpsertPoints>("qdrant.Points/Upsert", r => r.CollectionName, r => Locked(() =>
        {
            Check(r.CollectionName);
            foreach (var point in r.Points)
            {
                _points[point.Id.ToString()] = point.Clone();
                Versions[point.Id.ToString()] = ++_operation;
            }

            return Completed();
        }));
        Route<GetPoints>("qdrant.Points/Get", r => r.CollectionName, r => Locked(() =>
        {
            Check(r.CollectionName);
            var response = new GetResponse();
            foreach (var id in r.Ids)
            {
                if (_points.TryGetValue(id.ToString(), out var point))
                {
                    response.Result.Add(Retrieved(point, r.WithPayload, r.WithVectors));
                }
            }

            return response;
        }));
        Route<CountPoints>("qdrant.Points/Count", r => r.CollectionName, r => Locked(() =>
        {
            Check(r.CollectionName);
            return new CountResponse { Result = new CountResult { Count = (ulong)_points.Values.Count(p => QdrantFilterModel.Matches(r.Filter, p.Payload)) } };
        }));
        Route<QueryPoints>("qdrant.Points/Query", r => r.CollectionName, r => Locked(() =>
        {
            Check(r.CollectionName);
            var candidates = _points.Values.AsEnumerable();
            foreach (var prefetch in r.Prefetch)
            {
                var found = Rank(_points.Values, prefetch.Query, prefetch.Using, prefetch.Filter, prefetch.Limit).Select(s => s.Point).ToHashSet();
                candidates = candidates.Where(found.Contains);
            }

            var response = new QueryResponse();
            foreach (var (point, score) in Rank(candidates, r.Query, r.Using, r.Filter, r.Limit))
            {
                var retrieved = Retrieved(point, r.WithPayload, r.WithVectors);
                var scored = new ScoredPoint { Id = retrieved.Id, Score = score, Vectors = retrieved.Vectors, Version = Versions.GetValueOrDefault(point.Id.ToString()) };
                scored.Payload.Add(retrieved.Payload);
                response.Result.Add(scored);
            }

            return response;
        }));
        Route<DeletePoints>("qdrant.Points/Delete", r => r.CollectionName, r => Locked(() =>
        {
            Check(r.CollectionName);
            foreach (var id in r.Points.Points.Ids)
            {
                _points.Remove(id.ToString());
            }

            return Completed();
        }));
        Route<ScrollPoints>("qdrant.Points/Scroll", r => r.CollectionName, r => Locked(() =>
        {
            Check(r.CollectionName);
            var ordered = _points.Values.Where(p => QdrantFilterModel.Matches(r.Filter, p.Payload))
                .OrderBy(p => p.Id.Num).ThenBy(p => p.Id.Uuid, StringComparer.Ordinal).ToList();
            var start = r.Offset is null ? 0 : ordered.FindIndex(p => p.Id.Equals(r.Offset));
            var page = ordered.Skip(Math.Max(0, start)).Take((int)r.Limit + 1).ToList();
            var response = new ScrollResponse();
            foreach (var point in page.Take((int)r.Limit))
            {
                response.Result.Add(Retrieved(point, r.WithPayload, r.WithVectors));
            }

            if (page.Count > r.Limit)
            {
                response.NextPageOffset = page[^1].Id;
            }

            return response;
        }));
        Route<UpdatePointVectors>("qdrant.Points/UpdateVectors", r => r.CollectionName, r => Locked(() =>
        {
            Check(r.CollectionName);
            foreach (var update in r.Points)
            {
                var point = _points[update.Id.ToString()];
                foreach (var (name, vector) in update.Vectors.Vectors_.Vectors)
                {
                    point.Vectors.Vectors_.Vectors[name] = vector;
                }
            }

            return Completed();
        }));
        Route<CreateVectorNameRequest>("qdrant.Points/CreateVectorName", r => r.CollectionName, r => Locked(() =>
        {
            Check(r.CollectionName);
            _vectors!.ParamsMap.Map[r.VectorName] = new VectorParams { Size = r.DenseConfig.Size, Distance = r.DenseConfig.Distance };
            return Completed();
        }));
    }

    /// <summary>Qdrant's own point version: the number of the last operation that wrote the point, as a server without replicas counts.</summary>
    private Dictionary<string, ulong> Versions { get; } = new(StringComparer.Ordinal);

    public int PointCount
    {
        get
        {
            lock (_lock)
            {
                return _points.Count;
            }
        }
    }

    public IReadOnlyCollection<PointStruct> Points
    {
        get
        {
            lock (_lock)
            {
                return _points.Values.Select(p => p.Clone()).ToArray();
            }
        }
    }

    public bool Exists
    {
        get
        {
            lock (_lock)
            {
                return _vectors is not null;
            }
        }
    }

    /// <summary>The point's Qdrant version (the operation that last wrote it), 0 when absent.</summary>
    public ulong VersionOf(ulong id)
    {
        lock (_lock)
        {
            return Versions.GetValueOrDefault(new PointId { Num = id }.ToString());
        }
    }

    /// <summary>Empties the collection and restarts its operation numbers, as deleting and re-creating it does on a server.</summary>
    public void Recreate()
    {
        lock (_lock)
        {
            _points.Clear();
            Versions.Clear();
            _operation = 0;
        }
    }

    /// <summary>Writes a point as another writer would, bypassing the store (no write stamp unless the payload has one).</summary>
    public void Put(PointStruct point)
    {
        lock (_lock)
        {
            _points[point.Id.ToString()] = point.Clone();
            Versions[point.Id.ToString()] = ++_operation;
        }
    }

    /// <summary>Reports a payload index as existing, keyed as Qdrant writes key paths.</summary>
    public void AddPayloadIndex(string keyPath, PayloadSchemaType type)
    {
        lock (_lock)
        {
            _payloadSchema[keyPath] = type;
        }
    }

    /// <summary>Named dense vectors <c>prefix</c> and <c>full</c> of the layout, the full one without a graph.</summary>
    public static VectorsConfig StoreVectors(EmbeddingLayout layout, Distance distance = Distance.Cosine)
    {
        var map = new VectorParamsMap();
        map.Map["prefix"] = new VectorParams { Size = (ulong)layout.PrefixDimensions, Distance = distance };
        map.Map["full"] = new VectorParams { Size = (ulong)layout.FullDimensions, Distance = distance, HnswConfig = new HnswConfigDiff { M = 0 } };
        return new VectorsConfig { ParamsMap = map };
    }

    /// <summary>The collection's metadata as it stands.</summary>
    public MapField<string, Value> Metadata
    {
        get
        {
            lock (_lock)
            {
                return _metadata.Clone();
            }
        }
    }

    /// <summary>Removes a point, as another writer would.</summary>
    public void Remove(ulong id)
    {
        lock (_lock)
        {
            _points.Remove(new PointId { Num = id }.ToString());
        }
    }

    public static PointsOperationResponse Completed() => new() { Result = new UpdateResult { Status = UpdateStatus.Completed } };

    private GetCollectionInfoResponse Info(string name)
    {
        Check(name);
        var info = new CollectionInfo
        {
            Status = CollectionStatus.Green,
            OptimizerStatus = new OptimizerStatus { Ok = true },
            PointsCount = (ulong)_points.Count,
            Config = new CollectionConfig { Params = new CollectionParams { ShardNumber = 1, VectorsConfig = _vectors }, Metadata = { _metadata } },
        };
        foreach (var (keyPath, type) in _payloadSchema)
        {
            info.PayloadSchema[keyPath] = new PayloadSchemaInfo { DataType = type };
        }

        return new GetCollectionInfoResponse { Result = info };
    }

    private void Check(string name, bool exists = true)
    {
        if (name != _name || (_vectors is not null) != exists)
        {
            throw new RpcException(exists
                ? new Status(StatusCode.NotFound, $"Collection `{name}` doesn't exist!")
                : new Status(StatusCode.InvalidArgument, $"Wrong input: Collection `{name}` already exists!"));
        }
    }

    private static IEnumerable<(PointStruct Point, float Score)> Rank(IEnumerable<PointStruct> points, Query query, string name, Proto.Filter? filter, ulong limit) =>
        points.Where(p => QdrantFilterModel.Matches(filter, p.Payload))
            .Select(p => (p, Dot(query.Nearest.Dense.Data, p.Vectors.Vectors_.Vectors.TryGetValue(name, out var v) ? v.Dense.Data : null)))
            .Where(s => !float.IsNaN(s.Item2))
            .OrderByDescending(s => s.Item2)
            .Take((int)limit);

    private static float Dot(RepeatedField<float> query, RepeatedField<float>? vector)
    {
        if (vector is null)
        {
            return float.NaN;
        }

        var sum = 0f;
        for (var i = 0; i < Math.Min(query.Count, vector.Count); i++)
        {
            sum += query[i] * vector[i];
        }

        return sum;
    }

    private static RetrievedPoint Retrieved(PointStruct point, WithPayloadSelector? withPayload, WithVectorsSelector? withVectors)
    {
        var retrieved = new RetrievedPoint { Id = point.Id };
        if (withPayload is { Enable: true })
        {
            retrieved.Payload.Add(point.Payload);
        }
        else if (withPayload?.Include is { } include)
        {
            foreach (var field in include.Fields)
            {
                if (point.Payload.TryGetValue(field, out var value))
                {
                    retrieved.Payload[field] = value;
                }
            }
        }

        if (point.Vectors.VectorsOptionsCase == Vectors.VectorsOptionsOneofCase.Vector)
        {
            if (withVectors is { Enable: true })
            {
                retrieved.Vectors = new VectorsOutput { Vector = new VectorOutput { Dense = new DenseVector { Data = { point.Vectors.Vector.Dense.Data } } } };
            }

            return retrieved;
        }

        var names = withVectors switch
        {
            { Enable: true } => point.Vectors.Vectors_.Vectors.Keys.ToArray(),
            { Include: { } include } => include.Names.ToArray(),
            _ => [],
        };
        if (names.Length > 0)
        {
            var output = new NamedVectorsOutput();
            foreach (var name in names)
            {
                if (point.Vectors.Vectors_.Vectors.TryGetValue(name, out var vector))
                {
                    output.Vectors[name] = new VectorOutput { Dense = new DenseVector { Data = { vector.Dense.Data } } };
                }
            }

            retrieved.Vectors = new VectorsOutput { Vectors = output };
        }

        return retrieved;
    }

    // Answers the calls of `method` that name this collection, and passes the others to the collection registered before, if any.
    private void Route<T>(string method, Func<T, string> collection, Func<T, IMessage> answer) where T : IMessage
    {
        var previous = _server.AnswerFor(method);
        _server.On<T>(method, r => previous is not null && collection(r) != _name ? previous(r) : answer(r));
    }

    private T Locked<T>(Func<T> answer) where T : IMessage
    {
        lock (_lock)
        {
            return answer();
        }
    }
}
