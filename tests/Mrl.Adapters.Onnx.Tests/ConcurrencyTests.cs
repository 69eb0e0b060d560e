namespace Mrl.Adapters.Onnx.Tests;

public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Several_threads_embedding_at_once_get_the_same_vectors_as_one_thread()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, new() { BatchSize = 4, IntraOpNumThreads = 1 });
        var expected = (await generator.GenerateAsync(Fixtures.Sentences)).Select(e => e.Vector.ToArray()).ToList();

        using var start = new Barrier(8);
        var workers = Enumerable.Range(0, 8).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            var rounds = new List<List<float[]>>();
            for (var round = 0; round < 5; round++)
            {
                rounds.Add(generator.GenerateAsync(Fixtures.Sentences).GetAwaiter().GetResult().Select(e => e.Vector.ToArray()).ToList());
            }

            return rounds;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToList();

        foreach (var rounds in await Task.WhenAll(workers))
        {
            Assert.All(rounds, vectors => Assert.Equal(expected, vectors));
        }
    }
}
