using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// JSON values written one after another into one buffer, then packed into request bodies of the form
/// <c>{"points":[item,item,...]}</c> that each stay within a byte limit.
/// </summary>
internal sealed class JsonItemBuffer : IDisposable
{
    private static readonly byte[] Envelope = Encoding.UTF8.GetBytes("{\"points\":[");
    private static readonly byte[] EnvelopeEnd = Encoding.UTF8.GetBytes("]}");

    private readonly ArrayBufferWriter<byte> _buffer = new();
    private readonly List<(int Start, int Length)> _items = [];
    private readonly Utf8JsonWriter _writer;

    public JsonItemBuffer()
    {
        _writer = new Utf8JsonWriter(_buffer);
    }

    /// <summary>The bytes a body adds around its items.</summary>
    public static int EnvelopeBytes => Envelope.Length + EnvelopeEnd.Length;

    /// <summary>Writes one item with <paramref name="write"/>.</summary>
    public void Add<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var start = _buffer.WrittenCount;
        _writer.Reset();
        write(_writer, state);
        _writer.Flush();
        _items.Add((start, _buffer.WrittenCount - start));
    }

    /// <summary>
    /// Packs the items, in order, into as few bodies as fit within <paramref name="maxBytes"/> each.
    /// </summary>
    /// <param name="maxBytes">The largest body allowed.</param>
    /// <param name="describeItem">Names item i for the error message, e.g. <c>record 42 (position 3)</c>.</param>
    /// <exception cref="ArgumentException">One item alone does not fit; nothing is packed.</exception>
    public List<byte[]> Pack(int maxBytes, Func<int, string> describeItem)
    {
        for (var i = 0; i < _items.Count; i++)
        {
            var alone = _items[i].Length + EnvelopeBytes;
            if (alone > maxBytes)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"{describeItem(i)} serializes to a request of {alone} bytes, more than the {maxBytes} bytes one request may have " +
                    $"(QdrantStoreOptions.MaxRequestBytes; Qdrant's own limit is 32 MiB). Raise the limit or shrink the payload."));
            }
        }

        var bodies = new List<byte[]>();
        var written = _buffer.WrittenSpan;
        var first = 0;
        while (first < _items.Count)
        {
            var size = EnvelopeBytes + _items[first].Length;
            var end = first + 1;
            while (end < _items.Count && size + 1 + _items[end].Length <= maxBytes)
            {
                size += 1 + _items[end].Length;
                end++;
            }

            var body = new byte[size];
            var at = 0;
            Envelope.CopyTo(body, at);
            at += Envelope.Length;
            for (var i = first; i < end; i++)
            {
                if (i > first)
                {
                    body[at++] = (byte)',';
                }

                written.Slice(_items[i].Start, _items[i].Length).CopyTo(body.AsSpan(at));
                at += _items[i].Length;
            }

            EnvelopeEnd.CopyTo(body, at);
            bodies.Add(body);
            first = end;
        }

        return bodies;
    }

    public void Dispose() => _writer.Dispose();
}
