using System.Diagnostics;
using Mrl.Adapters.Diagnostics;
using Mrl.Adapters.InMemory;
using Mrl.Bench.Synthetic;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Mrl.Adapters.Tests;

/// <summary>The setup the README shows, with the OpenTelemetry SDK and its in-memory exporters.</summary>
public sealed class OpenTelemetrySdkTests
{
    [Fact]
    public async Task AddSource_and_AddMeter_with_the_instrumentation_name_export_the_search_spans_and_metrics()
    {
        var name = "otel_" + Guid.NewGuid().ToString("N")[..8];
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(MrlInstrumentation.Name).AddInMemoryExporter(spans).Build();
        using var meters = Sdk.CreateMeterProviderBuilder().AddMeter(MrlInstrumentation.Name).AddInMemoryExporter(metrics).Build();
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = 32, Seed = 5 }).Generate(100);
        using (var store = new InMemoryAdaptiveStore<long>(new EmbeddingLayout(32, 8), name))
        {
            await store.UpsertAsync(Enumerable.Range(0, 100).Select(i => new VectorRecord<long>(i, data.AsMemory(i * 32, 32))).ToArray());
            await store.SearchAsync(data.AsMemory(0, 32), new SearchOptions { K = 4 });
        }

        tracing.ForceFlush();
        meters.ForceFlush();

        // Other tests search in parallel and the exporters add their spans to these lists from those threads; disposing
        // the providers stops the listening before the lists are read.
        tracing.Dispose();
        meters.Dispose();

        var search = Assert.Single(spans, s => s.DisplayName == "search " + name);
        Assert.Contains(spans, s => s.DisplayName == "mrl.pass1" && s.ParentSpanId == search.SpanId);
        Assert.Contains(spans, s => s.DisplayName == "mrl.pass2" && s.ParentSpanId == search.SpanId);
        string[] instruments = ["mrl.search.pass1.duration", "mrl.search.pass2.duration", "mrl.search.candidates", "mrl.search.bytes_fetched", "mrl.records.written", "db.client.operation.duration"];
        Assert.All(instruments, i => Assert.Contains(metrics, m => m.Name == i));
    }
}
