using System.Collections;

namespace Mrl.Adapters.Filtering;

/// <summary>
/// The operands of an And or an Or built by the factory methods. Folding n conditions with <c>&amp;</c> merges each new
/// condition into the combination so far; copying the operands every time would cost O(n²) time and, past a few thousand
/// operands, a large-object-heap array per step. Instead the lists of one fold share a buffer: a list whose end is the
/// buffer's end appends in place, and every list sees only its own prefix, so each stays immutable.
/// </summary>
internal sealed class OperandList : IReadOnlyList<Filter>
{
    private readonly Buffer _buffer;
    private readonly int _count;

    private OperandList(Buffer buffer, int count)
    {
        _buffer = buffer;
        _count = count;
    }

    public int Count => _count;

    public Filter this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _count);
            return Volatile.Read(ref _buffer.Items)[index];
        }
    }

    public static OperandList Create(IReadOnlyList<Filter> first, ReadOnlySpan<Filter> rest)
    {
        if (first is OperandList list)
        {
            return list.Append(rest);
        }

        var buffer = new Buffer(new Filter[Math.Max(4, first.Count + rest.Length)]);
        return new OperandList(buffer, 0).Append(first, rest);
    }

    public IEnumerator<Filter> GetEnumerator()
    {
        var items = Volatile.Read(ref _buffer.Items);
        for (var i = 0; i < _count; i++)
        {
            yield return items[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private OperandList Append(ReadOnlySpan<Filter> rest) => Append([], rest);

    private OperandList Append(IReadOnlyList<Filter> first, ReadOnlySpan<Filter> rest)
    {
        var added = first.Count + rest.Length;
        lock (_buffer)
        {
            if (_buffer.Count == _count)
            {
                var items = _buffer.Items;
                if (items.Length - _count < added)
                {
                    // Lists that read the old array still find their prefix there.
                    Array.Resize(ref items, Math.Max(items.Length * 2, _count + added));
                }

                for (var i = 0; i < first.Count; i++)
                {
                    items[_count + i] = first[i];
                }

                rest.CopyTo(items.AsSpan(_count + first.Count));
                Volatile.Write(ref _buffer.Items, items);
                _buffer.Count = _count + added;
                return new OperandList(_buffer, _buffer.Count);
            }
        }

        // Another combination has already grown from this one: this one branches off with a copy.
        var copy = new Filter[Math.Max(4, (_count + added) * 2)];
        Volatile.Read(ref _buffer.Items).AsSpan(0, _count).CopyTo(copy);
        var branch = new Buffer(copy) { Count = _count };
        return new OperandList(branch, _count).Append(first, rest);
    }

    private sealed class Buffer(Filter[] items)
    {
        public Filter[] Items = items;

        public int Count;
    }
}
