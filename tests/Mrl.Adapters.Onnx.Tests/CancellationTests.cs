using System.Collections;

namespace Mrl.Adapters.Onnx.Tests;

public sealed class CancellationTests
{
    [Fact]
    public async Task A_token_cancelled_before_the_call_gives_a_cancelled_task()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base);
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        var task = generator.GenerateAsync(Fixtures.Sentences, cancellationToken: cancellation.Token);

        Assert.True(task.IsCanceled);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
    }

    [Fact]
    public async Task Cancelling_during_a_batch_stops_before_the_next_batch()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, new() { BatchSize = 2 });
        using var cancellation = new CancellationTokenSource();
        // Cancels while the second batch (texts 2 and 3) is being tokenized.
        var texts = new CancellingList(Fixtures.Sentences, cancelAtIndex: 3, cancellation);

        var task = generator.GenerateAsync(texts, cancellationToken: cancellation.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.True(task.IsCanceled);
        Assert.Equal(3, texts.HighestIndexTokenized);
    }

    [Fact]
    public async Task A_token_that_is_never_cancelled_changes_nothing()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, new() { BatchSize = 3 });
        using var cancellation = new CancellationTokenSource();

        var withToken = await generator.GenerateAsync(Fixtures.Sentences, cancellationToken: cancellation.Token);
        var without = await generator.GenerateAsync(Fixtures.Sentences);

        Assert.Equal(without.Select(e => e.Vector.ToArray()), withToken.Select(e => e.Vector.ToArray()));
    }

    /// <summary>A list that cancels a token when an index is read the second time: once when the generator checks the texts, then when it tokenizes.</summary>
    private sealed class CancellingList(IReadOnlyList<string> texts, int cancelAtIndex, CancellationTokenSource cancellation) : IReadOnlyList<string>
    {
        private readonly int[] _reads = new int[texts.Count];

        public int HighestIndexTokenized { get; private set; } = -1;

        public int Count => texts.Count;

        public string this[int index]
        {
            get
            {
                if (++_reads[index] == 2)
                {
                    HighestIndexTokenized = Math.Max(HighestIndexTokenized, index);
                    if (index == cancelAtIndex)
                    {
                        cancellation.Cancel();
                    }
                }

                return texts[index];
            }
        }

        public IEnumerator<string> GetEnumerator() => Enumerable.Range(0, Count).Select(i => this[i]).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
