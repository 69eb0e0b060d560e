namespace Mrl.Adapters.Diagnostics;

/// <summary>
/// The name of the library's <see cref="System.Diagnostics.ActivitySource"/> and <see cref="System.Diagnostics.Metrics.Meter"/>,
/// for <c>AddSource(MrlInstrumentation.Name)</c> and <c>AddMeter(MrlInstrumentation.Name)</c> in an OpenTelemetry setup.
/// </summary>
/// <remarks>
/// Spans: <c>search</c> (children <c>mrl.pass1</c> and <c>mrl.pass2</c>), <c>upsert</c>, <c>delete</c>, <c>get</c>, <c>count</c>
/// and one per migration step. Instruments: <c>db.client.operation.duration</c>, <c>mrl.search.pass1.duration</c>,
/// <c>mrl.search.pass2.duration</c>, <c>mrl.search.candidates</c>, <c>mrl.search.bytes_fetched</c> and <c>mrl.records.written</c>.
/// Tags: <c>db.system.name</c>, <c>db.collection.name</c>, <c>db.operation.name</c>, <c>mrl.prefix_dimensions</c>,
/// <c>mrl.oversampling</c> and the search's strategy; never vector values, filter values or credentials.
/// </remarks>
public static class MrlInstrumentation
{
    /// <summary>The ActivitySource and Meter name: <c>Mrl.Adapters</c>.</summary>
    public const string Name = "Mrl.Adapters";
}
