namespace Mrl.Adapters;

/// <summary>
/// Keeps the k best (score, id) pairs seen so far in a binary min-heap: O(n log k) for n offers, no full sort.
/// Ties keep the lower id, so results are deterministic.
/// </summary>
internal sealed class TopK
{
    // The heap starts this small and doubles up to k: k is what the caller may want, and a search with a huge k over a
    // few matching rows would otherwise allocate for k.
    private const int InitialCapacity = 64;

    private readonly int _k;
    private float[] _scores;
    private int[] _ids;
    private int _count;

    public TopK(int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        _k = k;
        _scores = new float[Math.Min(k, InitialCapacity)];
        _ids = new int[_scores.Length];
    }

    public int Count => _count;

    /// <summary>The k the heap keeps.</summary>
    public int Capacity => _k;

    /// <summary>The lowest score kept, once the heap is full; offers at or below it are rejected early.</summary>
    public float Threshold => _count == _k ? _scores[0] : float.NegativeInfinity;

    public void Offer(float score, int id)
    {
        if (float.IsNaN(score))
        {
            return;
        }

        if (_count < _k)
        {
            if (_count == _scores.Length)
            {
                var grown = (int)Math.Min(_k, 2L * _scores.Length);
                Array.Resize(ref _scores, grown);
                Array.Resize(ref _ids, grown);
            }

            _scores[_count] = score;
            _ids[_count] = id;
            SiftUp(_count++);
            return;
        }

        if (Worse(score, id, _scores[0], _ids[0]))
        {
            return;
        }

        _scores[0] = score;
        _ids[0] = id;
        SiftDown(0);
    }

    /// <summary>Adds every entry of <paramref name="other"/>.</summary>
    public void Merge(TopK other)
    {
        for (var i = 0; i < other._count; i++)
        {
            Offer(other._scores[i], other._ids[i]);
        }
    }

    /// <summary>The kept entries, best first.</summary>
    public (int Id, float Score)[] ToSortedDescending()
    {
        var result = new (int Id, float Score)[_count];
        for (var i = 0; i < _count; i++)
        {
            result[i] = (_ids[i], _scores[i]);
        }

        Array.Sort(result, static (a, b) =>
        {
            var c = b.Score.CompareTo(a.Score);
            return c != 0 ? c : a.Id.CompareTo(b.Id);
        });
        return result;
    }

    // "a is worse than b": lower score, or equal score and higher id.
    private static bool Worse(float scoreA, int idA, float scoreB, int idB) =>
        scoreA < scoreB || (scoreA == scoreB && idA > idB);

    private void SiftUp(int i)
    {
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (!Worse(_scores[i], _ids[i], _scores[parent], _ids[parent]))
            {
                break;
            }

            Swap(i, parent);
            i = parent;
        }
    }

    private void SiftDown(int i)
    {
        while (true)
        {
            var left = (2 * i) + 1;
            if (left >= _count)
            {
                return;
            }

            var worst = left;
            var right = left + 1;
            if (right < _count && Worse(_scores[right], _ids[right], _scores[left], _ids[left]))
            {
                worst = right;
            }

            if (!Worse(_scores[worst], _ids[worst], _scores[i], _ids[i]))
            {
                return;
            }

            Swap(i, worst);
            i = worst;
        }
    }

    private void Swap(int a, int b)
    {
        (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
        (_ids[a], _ids[b]) = (_ids[b], _ids[a]);
    }
}
