using Microsoft.Extensions.VectorData;

namespace Mrl.Adapters.VectorData.Tests;

/// <summary>A Semantic Kernel-style record: every kind of data property the adapter stores and filters on.</summary>
public sealed class Hotel
{
    [VectorStoreKey]
    public long HotelId { get; set; }

    [VectorStoreData(IsIndexed = true)]
    public string HotelName { get; set; } = "";

    [VectorStoreData(IsIndexed = true)]
    public int Rating { get; set; }

    [VectorStoreData]
    public double Price { get; set; }

    [VectorStoreData]
    public float Discount { get; set; }

    [VectorStoreData]
    public bool Parking { get; set; }

    [VectorStoreData]
    public DateTimeOffset Opened { get; set; }

    [VectorStoreData]
    public string[] Tags { get; set; } = [];

    [VectorStoreData]
    public List<string> Amenities { get; set; } = [];

    [VectorStoreData(StorageName = "description")]
    public string? Description { get; set; }

    [VectorStoreVector(32, DistanceFunction = DistanceFunction.CosineSimilarity)]
    public ReadOnlyMemory<float>? Embedding { get; set; }
}
