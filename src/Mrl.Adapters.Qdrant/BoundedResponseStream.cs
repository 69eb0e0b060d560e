using System.Globalization;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// A response body read through a limit: once more than <c>limit</c> bytes have come, reading throws instead of letting a
/// runaway or hostile answer grow the parsed document without bound.
/// </summary>
internal sealed class BoundedResponseStream(Stream inner, long limit, string request) : Stream
{
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>The error for an answer of <paramref name="bytes"/> (or more) bytes.</summary>
    public static QdrantException TooLarge(string request, long limit, long? bytes) => new(string.Create(CultureInfo.InvariantCulture,
        $"Qdrant {request} answered with {(bytes is { } b ? b + " bytes" : "more bytes")} than QdrantStoreOptions.MaxResponseBytes ({limit}); ask for fewer points or vectors per request, or raise the limit."));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Count(int read)
    {
        _read += read;
        return _read > limit ? throw TooLarge(request, limit, null) : read;
    }
}
