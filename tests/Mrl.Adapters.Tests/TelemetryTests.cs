using System.Diagnostics;
using Mrl.Adapters.InMemory;
using Mrl.Bench.Synthetic;
using Mrl.Adapters.Testing;

namespace Mrl.Adapters.Tests;

public sealed class TelemetryTests : IDisposable
{
    private const int Dimensions = 64;
    private readonly TelemetryCapture _capture = new();
    private readonly string _name = "telemetry_" + Guid.NewGuid().ToString("N")[..8];
    private readonly InMemoryAdaptiveStore<long> _store;
    private readonly float[] _vectors = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = Dimensions, Seed = 3 }).Generate(200);

    public TelemetryTests()
    {
        _store = new InMemoryAdaptiveStore<long>(new EmbeddingLayout(Dimensions, 16), _name);
    }

    public void Dispose()
    {
        _store.Dispose();
        _capture.Dispose();
    }

    private Task LoadAsync(int count = 200) =>
        _store.UpsertAsync(Enumerable.Range(0, count).Select(i => new VectorRecord<long>(i, _vectors.AsMemory(i * Dimensions, Dimensions))).ToArray());

    [Fact]
    public async Task Search_span_has_pass1_and_pass2_children_and_the_database_convention_tags()
    {
        await LoadAsync();
        Activity root;
        using (root = _capture.StartRoot())
        {
            await _store.SearchAsync(_vectors.AsMemory(0, Dimensions), new SearchOptions { K = 5, Oversampling = 4, EfSearch = 64 });
        }

        var spans = _capture.SpansOf(root);
        var search = Assert.Single(spans, s => s.OperationName == "search " + _name);
        var pass1 = Assert.Single(spans, s => s.OperationName == "mrl.pass1");
        var pass2 = Assert.Single(spans, s => s.OperationName == "mrl.pass2");
        Assert.Equal(search.SpanId, pass1.ParentSpanId);
        Assert.Equal(search.SpanId, pass2.ParentSpanId);
        Assert.Equal(root.SpanId, search.ParentSpanId);
        Assert.True(pass1.StartTimeUtc <= pass2.StartTimeUtc);

        Assert.Equal("inmemory", search.GetTagItem("db.system.name"));
        Assert.Equal(_name, search.GetTagItem("db.collection.name"));
        Assert.Equal("search", search.GetTagItem("db.operation.name"));
        Assert.Equal(16, search.GetTagItem("mrl.prefix_dimensions"));
        Assert.Equal(Dimensions, search.GetTagItem("mrl.full_dimensions"));
        Assert.Equal(4, search.GetTagItem("mrl.oversampling"));
        Assert.Equal(5, search.GetTagItem("mrl.k"));
        Assert.Equal(64, search.GetTagItem("mrl.ef_search"));
        Assert.Equal("two-pass", search.GetTagItem("mrl.strategy"));
        Assert.Equal(20, search.GetTagItem("mrl.candidates.fetched"));
        Assert.Equal(5, search.GetTagItem("db.response.returned_rows"));
        Assert.Equal(20, pass1.GetTagItem("mrl.candidates.requested"));
        Assert.Equal(20L * Dimensions * sizeof(float), pass1.GetTagItem("mrl.bytes_fetched"));
        Assert.Equal(ActivityStatusCode.Unset, search.Status);
    }

    [Fact]
    public async Task Search_records_pass_durations_candidates_and_bytes_per_query()
    {
        await LoadAsync();

        await _store.SearchAsync(_vectors.AsMemory(0, Dimensions), new SearchOptions { K = 10, Oversampling = 3 });
        await _store.SearchAsync(_vectors.AsMemory(Dimensions, Dimensions), new SearchOptions { K = 10, Oversampling = 3 });

        var pass1 = _capture.MeasurementsOf("mrl.search.pass1.duration", "db.collection.name", _name);
        var pass2 = _capture.MeasurementsOf("mrl.search.pass2.duration", "db.collection.name", _name);
        var candidates = _capture.MeasurementsOf("mrl.search.candidates", "db.collection.name", _name);
        var bytes = _capture.MeasurementsOf("mrl.search.bytes_fetched", "db.collection.name", _name);
        var duration = _capture.MeasurementsOf("db.client.operation.duration", "db.collection.name", _name)
            .Where(m => Equals(m.Tags["db.operation.name"], "search")).ToArray();
        Assert.Equal(2, pass1.Count);
        Assert.Equal(2, pass2.Count);
        Assert.Equal(2, duration.Length);
        Assert.All(pass1.Concat(pass2), m => Assert.True(m.Value > 0 && m.Value < 10));
        Assert.Equal([30.0, 30.0], candidates.Select(m => m.Value));
        Assert.Equal([30.0 * Dimensions * 4, 30.0 * Dimensions * 4], bytes.Select(m => m.Value));
        var tags = candidates[0].Tags;
        Assert.Equal("inmemory", tags["db.system.name"]);
        Assert.Equal("search", tags["db.operation.name"]);
        Assert.Equal(16, tags["mrl.prefix_dimensions"]);
        Assert.Equal(3, tags["mrl.oversampling"]);
        Assert.Equal("two-pass", tags["mrl.strategy"]);
    }

    [Fact]
    public async Task Upsert_and_delete_have_spans_and_written_records_are_counted()
    {
        Activity root;
        using (root = _capture.StartRoot())
        {
            await LoadAsync(120);
            await _store.UpsertAsync([new VectorRecord<long>(500, _vectors.AsMemory(0, Dimensions))]);
            Assert.Equal(2, await _store.DeleteAsync([1, 2, 999]));
        }

        var spans = _capture.SpansOf(root);
        var upserts = spans.Where(s => s.OperationName == "upsert " + _name).ToArray();
        var delete = Assert.Single(spans, s => s.OperationName == "delete " + _name);
        Assert.Equal([120, 1], upserts.Select(s => s.GetTagItem("mrl.records")));
        Assert.Equal("upsert", upserts[0].GetTagItem("db.operation.name"));
        Assert.Equal(2L, delete.GetTagItem("db.response.returned_rows"));
        Assert.Equal([120.0, 1.0], _capture.MeasurementsOf("mrl.records.written", "db.collection.name", _name).Select(m => m.Value));
    }

    [Fact]
    public async Task Rerank_none_has_no_pass2_span_and_records_no_pass2_duration()
    {
        await LoadAsync();
        Activity root;
        using (root = _capture.StartRoot())
        {
            await _store.SearchAsync(_vectors.AsMemory(0, Dimensions), new SearchOptions { K = 5, Strategy = SearchStrategy.PrefixOnly });
        }

        var spans = _capture.SpansOf(root);
        Assert.Single(spans, s => s.OperationName == "mrl.pass1");
        Assert.DoesNotContain(spans, s => s.OperationName == "mrl.pass2");
        Assert.Equal("prefix", Assert.Single(spans, s => s.OperationName.StartsWith("search", StringComparison.Ordinal)).GetTagItem("mrl.strategy"));
        Assert.Empty(_capture.MeasurementsOf("mrl.search.pass2.duration", "db.collection.name", _name));
    }

    [Fact]
    public async Task A_failed_search_marks_its_span_with_error_status_and_type()
    {
        await LoadAsync(10);
        Activity root;
        using (root = _capture.StartRoot())
        {
            await Assert.ThrowsAsync<ArgumentException>(() => _store.SearchAsync(new float[3], new SearchOptions()));
        }

        var search = Assert.Single(_capture.SpansOf(root), s => s.OperationName == "search " + _name);
        Assert.Equal(ActivityStatusCode.Error, search.Status);
        Assert.Equal(typeof(ArgumentException).FullName, search.GetTagItem("error.type"));
        var failed = _capture.MeasurementsOf("db.client.operation.duration", "db.collection.name", _name)
            .Single(m => m.Tags.ContainsKey("error.type"));
        Assert.Equal("search", failed.Tags["db.operation.name"]);
    }

    [Fact]
    public async Task Tags_hold_only_scalars_never_vectors_or_payload_values()
    {
        await _store.UpsertAsync([new VectorRecord<long>(1, _vectors.AsMemory(0, Dimensions), System.Text.Json.JsonDocument.Parse("""{"secret":"s3cr3t"}""").RootElement)]);
        Activity root;
        using (root = _capture.StartRoot())
        {
            await _store.SearchAsync(_vectors.AsMemory(0, Dimensions), new SearchOptions { K = 1, Filter = Filter.Eq("secret", "s3cr3t") });
        }

        var tags = _capture.SpansOf(root).SelectMany(s => s.TagObjects).ToArray();
        Assert.NotEmpty(tags);
        Assert.All(tags, t => Assert.True(t.Value is string or int or long or bool, $"{t.Key} is a {t.Value?.GetType().Name}"));
        Assert.DoesNotContain(tags, t => t.Value is string s && s.Contains("s3cr3t", StringComparison.Ordinal));
        Assert.Contains(tags, t => t.Key == "mrl.filtered" && Equals(t.Value, true));
    }
}
