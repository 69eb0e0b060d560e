using Microsoft.Extensions.Logging.Abstractions;
using Mrl.Adapters.Qdrant.Migration;
using Mrl.Adapters.Qdrant.Tests.Support;
using Qdrant.Client;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>
/// A projection stored with its collection, through a real <see cref="QdrantClient"/> to the in-process fake gRPC server:
/// the directions in the side collection <c>docs_mrl_projection</c>, the version the keys use in the collection's
/// metadata; the store checking it when it opens; reading it back; fitting one on a sample. Contract tests of the
/// requests, each checked against the gRPC surface of the version the fake reports; they prove nothing about a server.
/// </summary>
public sealed class ProjectionStorageFlowTests : IDisposable
{
    private const int Dimensions = 32, Prefix = 8;
    private const string Side = "docs_mrl_projection";

    private static readonly PrefixProjection Projection = Fit(version: 1);

    private readonly FakeQdrantServer _qdrant = new();
    private readonly QdrantClient _client;
    private readonly FakeQdrantCollection _docs;
    private readonly FakeQdrantCollection _side;

    public ProjectionStorageFlowTests()
    {
        _client = _qdrant.CreateClient();
        _docs = new FakeQdrantCollection(_qdrant);
        _side = new FakeQdrantCollection(_qdrant, Side);
    }

    public void Dispose()
    {
        _client.Dispose();
        _qdrant.Dispose();
    }

    [Fact]
    public async Task A_new_collection_gets_the_directions_stored_first_then_the_marker_in_its_metadata()
    {
        await Store(Projection).EnsureSchemaAsync();

        Assert.Equal(
        [
            "qdrant.Qdrant/HealthCheck",
            "qdrant.Collections/Get",
            "qdrant.Collections/Get",
            "qdrant.Collections/Create",
            "qdrant.Collections/Get",
            "qdrant.Points/CreateFieldIndex",
            "qdrant.Points/Scroll",
            "qdrant.Points/Upsert",
            "qdrant.Collections/Create",
        ], _qdrant.MethodNames);
        Assert.Equal(["docs", Side], _qdrant.Calls.Skip(1).Take(2).Select(c => c.As<Proto.GetCollectionInfoRequest>().CollectionName));
        var side = _qdrant.Calls[3].As<Proto.CreateCollection>();
        Assert.Equal((Side, 32ul, Proto.Distance.Dot, 0ul), (side.CollectionName, side.VectorsConfig.Params.Size, side.VectorsConfig.Params.Distance, side.VectorsConfig.Params.HnswConfig.M));
        var index = _qdrant.Calls[5].As<Proto.CreateFieldIndexCollection>();
        Assert.Equal((Side, "version", Proto.FieldType.Integer), (index.CollectionName, index.FieldName, index.FieldType));
        Assert.Equal(1, _qdrant.Calls[6].As<Proto.ScrollPoints>().Filter.Must.Single().Field.Match.Integer);
        var upsert = _qdrant.Calls[7].As<Proto.UpsertPoints>();
        Assert.Equal((Side, true), (upsert.CollectionName, upsert.Wait));
        Assert.Equal(Enumerable.Range(0, Prefix).Select(r => (1ul << 32) + (uint)r), upsert.Points.Select(p => p.Id.Num));
        Assert.Equal(Projection.Row(3).ToArray(), upsert.Points[3].Vectors.Vector.Dense.Data);
        Assert.Equal((1L, 3L), (upsert.Points[3].Payload["version"].IntegerValue, upsert.Points[3].Payload["row"].IntegerValue));

        var create = _qdrant.Calls[8].As<Proto.CreateCollection>();
        Assert.Equal("docs", create.CollectionName);
        var marker = Assert.Single(create.Metadata);
        Assert.Equal("mrl_projection:prefix", marker.Key);
        var fields = marker.Value.StructValue.Fields;
        Assert.Equal((1L, 1L, 8L, 32L, Side), (fields["format"].IntegerValue, fields["version"].IntegerValue, fields["rows"].IntegerValue, fields["columns"].IntegerValue,
            fields["collection"].StringValue));
        Assert.Equal(QdrantProjectionCodec.Checksum(Projection), fields["sha256"].StringValue);
        ProtoSurface.Of("1.19.0").AssertSupports(_qdrant.Calls);

        // Any client now reads the layout, projection included, from the collection.
        Assert.Equal(new EmbeddingLayout(Projection, DistanceMetric.Cosine), await QdrantMigrator.ReadLayoutAsync(_client, Options()));
    }

    [Fact]
    public async Task A_store_opened_again_with_the_same_projection_checks_the_marker_and_reads_no_direction()
    {
        await Store(Projection).EnsureSchemaAsync();
        _qdrant.Clear();

        await Store(Fit(version: 1)).EnsureSchemaAsync();

        Assert.Equal(["qdrant.Qdrant/HealthCheck", "qdrant.Collections/Get"], _qdrant.MethodNames);
    }

    [Fact]
    public async Task A_store_refuses_a_layout_whose_key_is_not_the_one_the_collection_records()
    {
        await Store(Projection).EnsureSchemaAsync();

        var truncating = await Assert.ThrowsAsync<SchemaMismatchException>(() => Store(null).EnsureSchemaAsync());
        var newer = await Assert.ThrowsAsync<SchemaMismatchException>(() => Store(Fit(version: 2)).EnsureSchemaAsync());
        var otherFit = await Assert.ThrowsAsync<SchemaMismatchException>(() => Store(Fit(version: 1, seed: 12)).EnsureSchemaAsync());

        Assert.Contains("holds projected keys (projection version 1, stored in 'docs_mrl_projection'), but the layout truncates", truncating.Message, StringComparison.Ordinal);
        Assert.Contains("QdrantMigrator.ReadLayoutAsync", truncating.Message, StringComparison.Ordinal);
        Assert.Contains("The layout projects with version 2, but the keys of 'prefix' in Qdrant collection 'docs' are computed with projection version 1", newer.Message, StringComparison.Ordinal);
        Assert.Contains("another fit or other values", otherFit.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_projected_layout_on_a_collection_that_records_no_projection_is_refused_from_qdrant_1_16_and_accepted_before()
    {
        var existing = new FakeQdrantCollection(_qdrant, "plain", FakeQdrantCollection.StoreVectors(new EmbeddingLayout(Dimensions, Prefix)));
        var options = Samples.Options(new EmbeddingLayout(Projection, DistanceMetric.Cosine), "plain");

        var error = await Assert.ThrowsAsync<SchemaMismatchException>(() => new QdrantAdaptiveStore<long>(_client, options).EnsureSchemaAsync());
        _qdrant.Version = "1.15.0";
        await new QdrantAdaptiveStore<long>(_client, options).EnsureSchemaAsync();

        Assert.Contains("records no projection for its prefix vector 'prefix'", error.Message, StringComparison.Ordinal);
        Assert.Contains("mrl migrate qdrant --projection", error.Message, StringComparison.Ordinal);
        Assert.True(existing.Exists);
    }

    [Fact]
    public async Task Before_qdrant_1_16_a_new_collection_is_created_without_metadata_and_nothing_is_stored_beside_it()
    {
        _qdrant.Version = "1.15.0";

        await Store(Projection).EnsureSchemaAsync();

        Assert.Equal(["qdrant.Qdrant/HealthCheck", "qdrant.Collections/Get", "qdrant.Collections/Create"], _qdrant.MethodNames);
        Assert.Empty(_qdrant.Calls[2].As<Proto.CreateCollection>().Metadata);
        Assert.False(_side.Exists);
    }

    [Fact]
    public async Task A_reader_gets_one_whole_version_while_the_next_is_written_and_the_next_once_the_marker_moves()
    {
        await Store(Projection).EnsureSchemaAsync();
        var next = Fit(version: 2, seed: 13);
        var marker = QdrantProjectionCodec.Describe(next, Side);

        await QdrantProjections.StoreAsync(_client, Calls(), next, Side, Options(), CancellationToken.None);
        var during = await QdrantMigrator.ReadProjectionAsync(_client, Options());
        await QdrantProjections.SwitchAsync(_client, Calls(), "docs", "prefix", marker, CancellationToken.None);
        var after = await QdrantMigrator.ReadProjectionAsync(_client, Options());

        Assert.Equal(2 * Prefix, _side.PointCount);
        Assert.Equal(Projection, during);
        Assert.Equal(next, after);
        var update = _qdrant.Calls.Single(c => c.Method == "qdrant.Collections/Update").As<Proto.UpdateCollection>();
        Assert.Equal(2, update.Metadata["mrl_projection:prefix"].StructValue.Fields["version"].IntegerValue);
        ProtoSurface.Of("1.17.0").AssertSupports([_qdrant.Calls.Single(c => c.Method == "qdrant.Collections/Update")]);
        await Assert.ThrowsAsync<SchemaMismatchException>(() => Store(Projection).EnsureSchemaAsync());
        await Store(next).EnsureSchemaAsync();
    }

    [Fact]
    public async Task A_stored_version_missing_a_direction_is_reported_with_what_is_missing()
    {
        await Store(Projection).EnsureSchemaAsync();
        _side.Remove(QdrantProjectionCodec.PointId(1, 3));

        var read = await Assert.ThrowsAsync<SchemaMismatchException>(() => QdrantMigrator.ReadProjectionAsync(_client, Options()));
        var layout = await Assert.ThrowsAsync<SchemaMismatchException>(() => QdrantMigrator.ReadLayoutAsync(_client, Options()));

        Assert.Contains("7 of its 8 directions are there (row 3 is the first missing)", read.Message, StringComparison.Ordinal);
        Assert.Contains("restore 'docs_mrl_projection' from a snapshot", read.Message, StringComparison.Ordinal);
        Assert.Equal(read.Message, layout.Message);
    }

    [Fact]
    public async Task A_version_is_written_once_a_second_store_of_it_writes_nothing_and_other_values_under_it_are_refused()
    {
        await QdrantProjections.StoreAsync(_client, Calls(), Projection, Side, Options(), CancellationToken.None);
        _qdrant.Clear();

        await QdrantProjections.StoreAsync(_client, Calls(), Fit(version: 1), Side, Options(), CancellationToken.None);
        var calls = _qdrant.MethodNames;
        var error = await Assert.ThrowsAsync<SchemaMismatchException>(() =>
            QdrantProjections.StoreAsync(_client, Calls(), Fit(version: 1, seed: 12), Side, Options(), CancellationToken.None));

        Assert.Equal(["qdrant.Collections/Get", "qdrant.Points/Scroll"], calls);
        Assert.Contains("already holds directions of projection version 1 that differ", error.Message, StringComparison.Ordinal);
        Assert.Equal(Prefix, _side.PointCount);
    }

    [Fact]
    public async Task A_partly_written_version_is_completed_by_a_rerun()
    {
        await QdrantProjections.StoreAsync(_client, Calls(), Projection, Side, Options(), CancellationToken.None);
        _side.Remove(QdrantProjectionCodec.PointId(1, 6));
        _qdrant.Clear();

        await QdrantProjections.StoreAsync(_client, Calls(), Projection, Side, Options(), CancellationToken.None);

        Assert.Equal(Prefix, Assert.Single(_qdrant.Calls, c => c.Method == "qdrant.Points/Upsert").As<Proto.UpsertPoints>().Points.Count);
        Assert.Equal(Prefix, _side.PointCount);
    }

    [Fact]
    public async Task Fit_lists_ids_then_retrieves_the_full_vectors_of_a_seeded_sample_and_fits_the_same_projection_twice()
    {
        await FullVectorsAsync(300);

        var first = await QdrantMigrator.FitProjectionAsync(_client, Options(), Prefix, DistanceMetric.Cosine, sampleSize: 100);
        var calls = _qdrant.Calls;
        var second = await QdrantMigrator.FitProjectionAsync(_client, Options(), Prefix, DistanceMetric.Cosine, sampleSize: 100);

        Assert.Equal(["qdrant.Collections/Get", "qdrant.Points/Scroll", "qdrant.Points/Get", "qdrant.Collections/Get"], calls.Select(c => c.Method));
        var scroll = calls[1].As<Proto.ScrollPoints>();
        Assert.Equal(("docs", 10_000u, false, false), (scroll.CollectionName, scroll.Limit, scroll.WithPayload.Enable, scroll.WithVectors.Enable));
        var retrieve = calls[2].As<Proto.GetPoints>();
        Assert.Equal(["full"], retrieve.WithVectors.Include.Names);
        Assert.False(retrieve.WithPayload.Enable);
        Assert.Equal(100, retrieve.Ids.Select(id => id.Num).Distinct().Count());
        Assert.Equal(Side, calls[3].As<Proto.GetCollectionInfoRequest>().CollectionName);
        Assert.Equal(first, second);
        Assert.Equal((1, Prefix, Dimensions), (first.Version, first.Rows, first.Columns));
        ProtoSurface.Of("1.17.0").AssertSupports(calls);
    }

    [Fact]
    public async Task A_refit_takes_the_version_after_the_highest_one_stored()
    {
        await FullVectorsAsync(60);
        await QdrantProjections.StoreAsync(_client, Calls(), Fit(version: 2), Side, Options(), CancellationToken.None);

        var fitted = await QdrantMigrator.FitProjectionAsync(_client, Options(), Prefix, DistanceMetric.Cosine);

        Assert.Equal(3, fitted.Version);
    }

    [Fact]
    public async Task Fit_refuses_a_sample_with_fewer_usable_vectors_than_key_dimensions()
    {
        await FullVectorsAsync(6);
        _docs.Put(QdrantAdaptiveStore<long>.Point(QdrantPointId.FromNumber(100), [], new float[Dimensions], "prefix", "full"));

        var error = await Assert.ThrowsAsync<QdrantMigrationException>(() => QdrantMigrator.FitProjectionAsync(_client, Options(), Prefix, DistanceMetric.Cosine));

        Assert.Contains("needs a sample of at least as many usable vectors of 32 dimensions; 'docs' gave 6", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_layout_of_a_collection_with_a_truncated_prefix_comes_from_its_vectors()
    {
        _ = new FakeQdrantCollection(_qdrant, "dot", FakeQdrantCollection.StoreVectors(new EmbeddingLayout(Dimensions, Prefix), Proto.Distance.Dot));

        var layout = await QdrantMigrator.ReadLayoutAsync(_client, Options("dot"));

        Assert.Equal(new EmbeddingLayout(Dimensions, Prefix, DistanceMetric.DotProduct), layout);
        Assert.Null(await QdrantMigrator.ReadProjectionAsync(_client, Options("dot")));
        Assert.Null(await QdrantMigrator.ReadProjectionAsync(_client, Options("missing")));
    }

    private static PrefixProjection Fit(int version, int seed = 11) =>
        ProjectionFitter.Fit(Samples.Vectors(400, Dimensions, seed: seed), Dimensions, Prefix, DistanceMetric.Cosine, version);

    // Options without a layout, as an application has them before it reads the layout from the collection.
    private static QdrantStoreOptions Options(string collection = "docs") => new() { ApiKey = Samples.ApiKey, Collection = collection };

    private static QdrantCalls Calls() => new("docs", TimeSpan.FromSeconds(30), 0, Samples.ApiKey, NullLogger.Instance);

    private QdrantAdaptiveStore<long> Store(PrefixProjection? projection) =>
        new(_client, Samples.Options(projection is null ? new EmbeddingLayout(Dimensions, Prefix) : new EmbeddingLayout(projection, DistanceMetric.Cosine)));

    /// <summary>Makes <c>docs</c> a collection with only a named full vector, holding <paramref name="count"/> points, as before a migration.</summary>
    private async Task FullVectorsAsync(int count)
    {
        var vectors = FakeQdrantCollection.StoreVectors(new EmbeddingLayout(Dimensions, Prefix));
        vectors.ParamsMap.Map.Remove("prefix");
        await _client.CreateCollectionAsync(new Proto.CreateCollection { CollectionName = "docs", VectorsConfig = vectors });
        var data = Samples.Vectors(count, Dimensions);
        await _client.UpsertAsync("docs", Enumerable.Range(0, count)
            .Select(i => QdrantAdaptiveStore<long>.Point(QdrantPointId.FromNumber((ulong)i), [], data.AsSpan(i * Dimensions, Dimensions), "prefix", "full"))
            .ToArray());
        _qdrant.Clear();
    }
}
