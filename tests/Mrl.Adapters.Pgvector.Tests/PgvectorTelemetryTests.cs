using System.Diagnostics;
using Mrl.Adapters.Caching;
using Mrl.Bench.Synthetic;
using Mrl.Adapters.Testing;

namespace Mrl.Adapters.Pgvector.Tests;

[Collection(PostgresGroup.Name)]
public sealed class PgvectorTelemetryTests(PostgresFixture postgres) : IDisposable
{
    private readonly TelemetryCapture _capture = new();

    public void Dispose() => _capture.Dispose();

    [SkippableFact]
    public async Task Each_migration_step_and_each_store_operation_is_a_client_span_of_postgresql()
    {
        postgres.RequireServer();
        var layout = new EmbeddingLayout(32, 8);
        var options = new PgvectorStoreOptions { Table = postgres.NewTableName("otel") };
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = 32, Seed = 9 }).Generate(50);
        Activity root;
        using (root = _capture.StartRoot())
        {
            await using var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, layout, options);
            await store.EnsureSchemaAsync();
            await store.UpsertAsync(Enumerable.Range(0, 50).Select(i => new VectorRecord<long>(i, data.AsMemory(i * 32, 32))).ToArray());
            await store.SearchAsync(data.AsMemory(0, 32), new SearchOptions { K = 3, Oversampling = 5 });
            await store.DeleteAsync([1L, 2L]);
            await new PgvectorMigrator(postgres.DataSource, layout, options).DownAsync();
        }

        var spans = _capture.SpansOf(root);
        var names = spans.Select(s => s.OperationName).ToArray();
        string[] steps = ["extension", "create-table", "add-column", "trigger", "pending-index", "backfill", "index", "drop-index", "drop-pending-index", "drop-trigger", "drop-column"];
        foreach (var step in steps)
        {
            var span = Assert.Single(spans, s => s.OperationName == step + " " + options.Table);
            Assert.Equal(step, span.GetTagItem("mrl.migration.step"));
            Assert.Equal(options.Table, span.GetTagItem("db.collection.name"));
            Assert.Equal(ActivityKind.Client, span.Kind);
        }

        var search = Assert.Single(spans, s => s.OperationName == "search " + options.Table);
        Assert.Equal(ActivityKind.Client, search.Kind);
        Assert.Equal("postgresql", search.GetTagItem("db.system.name"));
        Assert.Equal(5, search.GetTagItem("mrl.oversampling"));
        Assert.Equal(8, search.GetTagItem("mrl.prefix_dimensions"));
        Assert.Equal(15L * 32 * sizeof(float), search.GetTagItem("mrl.bytes_fetched"));
        Assert.Contains(spans, s => s.OperationName == "mrl.pass1" && s.ParentSpanId == search.SpanId);
        Assert.Contains(spans, s => s.OperationName == "mrl.pass2" && s.ParentSpanId == search.SpanId);
        Assert.Contains("upsert " + options.Table, names);
        Assert.Contains("delete " + options.Table, names);
        Assert.Equal([50.0], _capture.MeasurementsOf("mrl.records.written", "db.collection.name", options.Table).Select(m => m.Value));
        Assert.Single(_capture.MeasurementsOf("mrl.search.bytes_fetched", "db.collection.name", options.Table), m => m.Value == 15 * 32 * 4);
    }

    [SkippableFact]
    public async Task A_search_through_a_warm_cache_reports_its_hits_and_no_bytes_fetched()
    {
        postgres.RequireServer();
        var layout = new EmbeddingLayout(32, 8);
        var options = new PgvectorStoreOptions { Table = postgres.NewTableName("otelcache") };
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = 32, Seed = 4 }).Generate(100);
        await using var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, layout, options)
        {
            FullVectorCache = new InMemoryFullVectorCache<long>(new FullVectorCacheOptions(32, 1 << 20)),
        };
        await store.EnsureSchemaAsync();
        await store.UpsertAsync(Enumerable.Range(0, 100).Select(i => new VectorRecord<long>(i, data.AsMemory(i * 32, 32))).ToArray());
        await store.WarmAsync();
        Activity root;
        using (root = _capture.StartRoot())
        {
            await store.SearchAsync(data.AsMemory(0, 32), new SearchOptions { K = 5, Oversampling = 4 });
        }

        var search = Assert.Single(_capture.SpansOf(root), s => s.OperationName == "search " + options.Table);
        Assert.Equal(20, search.GetTagItem("mrl.cache.hits"));
        Assert.Equal(0, search.GetTagItem("mrl.cache.misses"));
        Assert.Equal(0L, search.GetTagItem("mrl.bytes_fetched"));
        Assert.Equal("two-pass-cached", search.GetTagItem("mrl.strategy"));
    }

    [SkippableFact]
    public async Task A_migration_refused_by_its_preflight_is_marked_as_an_error()
    {
        postgres.RequireServer();
        var options = new PgvectorStoreOptions { Table = postgres.NewTableName("missing"), CreateTableIfMissing = false };
        Activity root;
        using (root = _capture.StartRoot())
        {
            await Assert.ThrowsAsync<PgvectorMigrationException>(() => new PgvectorMigrator(postgres.DataSource, new EmbeddingLayout(32, 8), options).UpAsync());
        }

        Assert.DoesNotContain(_capture.SpansOf(root), s => s.OperationName == "add-column " + options.Table);
        var step = Assert.Single(_capture.SpansOf(root), s => s.OperationName == "preflight " + options.Table);
        Assert.Equal(ActivityStatusCode.Error, step.Status);
        Assert.NotNull(step.GetTagItem("error.type"));
    }
}
