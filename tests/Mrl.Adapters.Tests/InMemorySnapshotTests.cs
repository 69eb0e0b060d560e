using System.Text.Json;
using Mrl.Adapters.InMemory;
using Mrl.Bench.Synthetic;

namespace Mrl.Adapters.Tests;

public sealed class InMemorySnapshotTests
{
    [Fact]
    public async Task Snapshot_round_trips_records_and_search_results()
    {
        var layout = new EmbeddingLayout(24, 6, DistanceMetric.DotProduct);
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = 24 }).Generate(300);
        using var store = new InMemoryAdaptiveStore<string>(layout);
        await store.UpsertAsync(Enumerable.Range(0, 300)
            .Select(i => new VectorRecord<string>($"k{i}", data.AsMemory(i * 24, 24), i % 2 == 0 ? JsonSerializer.SerializeToElement(new { i }) : null))
            .ToArray());

        using var buffer = new MemoryStream();
        await InMemorySnapshot.SaveAsync(store, buffer);
        buffer.Position = 0;
        using var loaded = await InMemorySnapshot.LoadAsync<string>(buffer);

        Assert.Equal(layout, loaded.Layout);
        Assert.Equal(300, await loaded.CountAsync());
        Assert.Equal(150, await loaded.CountAsync(Filter.Range("i", gte: 0)));
        var query = data.AsMemory(42 * 24, 24);
        var before = await store.SearchAsync(query, new SearchOptions { K = 10 });
        var after = await loaded.SearchAsync(query, new SearchOptions { K = 10 });
        Assert.Equal(before.Hits.Select(h => (h.Key, h.Score)), after.Hits.Select(h => (h.Key, h.Score)));
    }

    [Fact]
    public async Task Metadata_follows_the_records_and_a_snapshot_without_it_loads_with_none()
    {
        using var store = new InMemoryAdaptiveStore<string>(new EmbeddingLayout(4, 2));
        await store.UpsertAsync([new VectorRecord<string>("a", new float[] { 1, 0, 0, 0 })]);
        using var plain = new MemoryStream();
        await InMemorySnapshot.SaveAsync(store, plain);
        using var tagged = new MemoryStream();
        await InMemorySnapshot.SaveAsync(store, tagged, new Dictionary<string, string> { ["mrl.model"] = "base", ["note"] = "é \"quoted\"" });

        // Appended after the records, so that a reader that predates metadata reads the same snapshot and stops before it.
        Assert.Equal(plain.ToArray(), tagged.ToArray()[..(int)plain.Length]);
        tagged.Position = 0;
        var (loaded, metadata) = await InMemorySnapshot.LoadWithMetadataAsync<string>(tagged);
        using (loaded)
        {
            Assert.Equal(1, await loaded.CountAsync());
            Assert.Equal("base", metadata["mrl.model"]);
            Assert.Equal("é \"quoted\"", metadata["note"]);
        }

        plain.Position = 0;
        var (old, none) = await InMemorySnapshot.LoadWithMetadataAsync<string>(plain);
        using (old)
        {
            Assert.Equal(1, await old.CountAsync());
            Assert.Empty(none);
        }

        tagged.SetLength(tagged.Length - 3);
        tagged.Position = 0;
        await Assert.ThrowsAsync<InvalidDataException>(() => InMemorySnapshot.LoadAsync<string>(tagged));
    }

    [Fact]
    public async Task Loading_with_another_key_type_or_a_foreign_file_fails_clearly()
    {
        using var store = new InMemoryAdaptiveStore<long>(new EmbeddingLayout(4, 2));
        using var buffer = new MemoryStream();
        await InMemorySnapshot.SaveAsync(store, buffer);
        buffer.Position = 0;
        await Assert.ThrowsAsync<InvalidDataException>(() => InMemorySnapshot.LoadAsync<Guid>(buffer));
        await Assert.ThrowsAsync<InvalidDataException>(() => InMemorySnapshot.LoadAsync<long>(new MemoryStream("not a snapshot"u8.ToArray())));
    }

    [Fact]
    public async Task A_snapshot_file_cut_short_anywhere_or_with_a_corrupt_payload_fails_with_InvalidDataException_naming_the_file()
    {
        var path = Path.Combine(Path.GetTempPath(), "mrl-snapshot-" + Guid.NewGuid().ToString("N") + ".bin");
        using var store = new InMemoryAdaptiveStore<string>(new EmbeddingLayout(4, 2));
        await store.UpsertAsync([
            new VectorRecord<string>("a", new float[] { 1, 0, 0, 0 }, JsonSerializer.SerializeToElement(new { text = "alpha" })),
            new VectorRecord<string>("b", new float[] { 0, 1, 0, 0 }, null),
        ]);
        using var buffer = new MemoryStream();
        await InMemorySnapshot.SaveAsync(store, buffer);
        var whole = buffer.ToArray();
        try
        {
            for (var length = 0; length < whole.Length; length++)
            {
                await File.WriteAllBytesAsync(path, whole[..length]);
                await using var truncated = File.OpenRead(path);
                var error = await Assert.ThrowsAsync<InvalidDataException>(() => InMemorySnapshot.LoadAsync<string>(truncated));
                Assert.Contains(path, error.Message, StringComparison.Ordinal);
            }

            var corrupt = whole.ToArray();
            corrupt[Array.IndexOf(corrupt, (byte)'{')] = (byte)'[';
            await File.WriteAllBytesAsync(path, corrupt);
            await using var stream = File.OpenRead(path);
            var payloadError = await Assert.ThrowsAsync<InvalidDataException>(() => InMemorySnapshot.LoadAsync<string>(stream));
            Assert.Contains("corrupt", payloadError.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
