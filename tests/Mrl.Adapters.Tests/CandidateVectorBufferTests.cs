namespace Mrl.Adapters.Tests;

public sealed class CandidateVectorBufferTests
{
    [Fact]
    public void Slots_do_not_overlap_and_are_gone_once_the_buffer_is_returned()
    {
        var buffer = new CandidateVectorBuffer(3, 4);
        for (var i = 0; i < 3; i++)
        {
            buffer.Slot(i).Span.Fill(i + 1);
        }

        Assert.Equal([1f, 1, 1, 1], buffer.Slot(0).ToArray());
        Assert.Equal([3f, 3, 3, 3], buffer.Slot(2).ToArray());
        buffer.Dispose();
        buffer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => buffer.Slot(0));
    }

    [Fact]
    public void A_buffer_for_the_largest_candidate_count_rents_room_only_for_the_slots_used()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var buffer = new CandidateVectorBuffer(SearchOptions.MaxCandidates, 3072);
        for (var i = 0; i < 10; i++)
        {
            buffer.Slot(i).Span.Fill(i);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        buffer.Dispose();

        Assert.True(allocated < 1024 * 1024, $"{allocated} bytes allocated for 10 slots of 3,072 values");
    }

    [Fact]
    public void Slots_keep_their_values_as_the_buffer_grows_and_stop_at_the_count()
    {
        using var buffer = new CandidateVectorBuffer(1000, 3);
        var slots = Enumerable.Range(0, 1000).Select(i => buffer.Slot(i)).ToArray();
        for (var i = 0; i < slots.Length; i++)
        {
            slots[i].Span.Fill(i);
        }

        Assert.All(Enumerable.Range(0, 1000), i => Assert.Equal([i, i, i], buffer.Slot(i).ToArray()));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Slot(1000));
    }

    [Fact]
    public async Task The_retriever_reranks_from_the_pooled_buffer_and_returns_it_afterwards()
    {
        var layout = new EmbeddingLayout(4, 2, DistanceMetric.DotProduct);
        var source = new PooledSource([[1, 0, 0, 0], [0, 0, 1, 0], [0.6f, 0, 0.8f, 0]]);
        var result = await TwoPassRetriever.SearchAsync(layout, source, new float[] { 0.1f, 0, 1, 0 }, new SearchOptions { K = 2, Oversampling = 2 });

        Assert.Equal([1L, 2L], result.Hits.Select(h => h.Key));
        Assert.Equal([1f, 0.86f], result.Hits.Select(h => h.Score), (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Throws<ObjectDisposedException>(() => source.LastBuffer!.Slot(0));
    }

    private sealed class PooledSource(float[][] vectors) : ICandidateSource<long>
    {
        public CandidateVectorBuffer? LastBuffer { get; private set; }

        public ValueTask<CandidateBatch<long>> FetchCandidatesAsync(CandidateRequest request, CancellationToken cancellationToken)
        {
            var buffer = new CandidateVectorBuffer(vectors.Length, vectors[0].Length);
            var candidates = new Candidate<long>[vectors.Length];
            for (var i = 0; i < vectors.Length; i++)
            {
                vectors[i].CopyTo(buffer.Slot(i));
                candidates[i] = new Candidate<long>(i, 0, buffer.Slot(i), null);
            }

            LastBuffer = buffer;
            return ValueTask.FromResult(new CandidateBatch<long>(candidates, 0) { Vectors = buffer });
        }
    }
}
