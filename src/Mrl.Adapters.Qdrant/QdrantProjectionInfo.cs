namespace Mrl.Adapters.Qdrant;

/// <summary>
/// Which projection the keys of a collection's prefix vector are computed with, as the collection's metadata records it,
/// and where its directions are stored.
/// </summary>
/// <param name="Collection">The side collection that holds the directions, one point per direction and version.</param>
/// <param name="Version">The projection version the keys are computed with.</param>
/// <param name="Rows">Its key dimensions (p).</param>
/// <param name="Columns">Its full dimensions (D).</param>
/// <param name="Checksum">The SHA-256 of its matrix (row-major, little-endian <c>float</c>s), in lowercase hex.</param>
public sealed record QdrantProjectionInfo(string Collection, int Version, int Rows, int Columns, string Checksum)
{
    /// <summary>Whether <paramref name="projection"/> is this projection: the same version, shape and values.</summary>
    public bool Describes(PrefixProjection projection)
    {
        ArgumentNullException.ThrowIfNull(projection);
        return projection.Version == Version && projection.Rows == Rows && projection.Columns == Columns &&
               string.Equals(QdrantProjectionCodec.Checksum(projection), Checksum, StringComparison.Ordinal);
    }
}
