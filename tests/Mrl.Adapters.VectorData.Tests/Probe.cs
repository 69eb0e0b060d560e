using Microsoft.Extensions.VectorData;

namespace Mrl.Adapters.VectorData.Tests;

/// <summary>A record shaped like the MEVD conformance suite's: a 3-value vector, an int key and the data types it round-trips.</summary>
public sealed class Probe
{
    [VectorStoreKey]
    public int Id { get; set; }

    [VectorStoreData]
    public string? Text { get; set; }

    [VectorStoreData]
    public int? Number { get; set; }

    [VectorStoreData]
    public TimeOnly Time { get; set; }

    [VectorStoreData]
    public DateOnly Date { get; set; }

    [VectorStoreData]
    public DateTimeOffset At { get; set; }

    [VectorStoreData]
    public byte Small { get; set; }

    [VectorStoreData]
    public decimal Amount { get; set; }

    [VectorStoreData]
    public Guid Reference { get; set; }

    [VectorStoreData]
    public string[] Tags { get; set; } = [];

    [VectorStoreVector(3)]
    public ReadOnlyMemory<float> Vector { get; set; }
}
