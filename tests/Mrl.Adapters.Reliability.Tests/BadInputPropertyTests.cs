using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;
using Mrl.Adapters.InMemory;
using Mrl.Adapters.Pgvector;
using Mrl.Adapters.Testing;
using Mrl.Adapters.Tests.Shared;
using Xunit.Abstractions;

namespace Mrl.Adapters.Reliability.Tests;

/// <summary>
/// Property-based checks over the public API of the in-memory and pgvector stores (vector and halfvec columns): bad input gets an
/// <see cref="ArgumentException"/> and changes nothing, good input round-trips, and the stores agree with each other.
/// </summary>
[Collection(PostgresGroup.Name)]
public sealed class BadInputPropertyTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int Dimensions = 8;
    private const int Iterations = 60;
    private static readonly EmbeddingLayout Layout = new(Dimensions, 3);

    public static TheoryData<string> Stores => ["memory", "pgvector", "pgvector-halfvec"];

    private async Task<IAdaptiveStore<long>> CreateAsync(string kind, int upsertBatchSize = 3, bool deferIndexes = false)
    {
        if (kind == "memory")
        {
            return new InMemoryAdaptiveStore<long>(Layout);
        }

        postgres.RequireServer();
        var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, new PgvectorStoreOptions
        {
            Table = postgres.NewTableName("bad"),
            FullVectorType = kind == "pgvector-halfvec" ? VectorType.HalfVec : VectorType.Vector,
            UpsertBatchSize = upsertBatchSize,
            DeferIndexes = deferIndexes,
        });
        await store.EnsureSchemaAsync();
        return store;
    }

    private static async ValueTask DisposeAsync(IAdaptiveStore<long> store)
    {
        switch (store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    private static readonly Gen<float[]> Vectors = BadInputGenerators.Vectors(Dimensions, Layout.PrefixDimensions);

    private static bool ValidForLayout(float[] vector) => BadInputGenerators.ValidFor(Layout, vector);

    private static float[] Stored(string kind, float[] vector) =>
        kind == "pgvector-halfvec" ? vector.Select(v => (float)(Half)v).ToArray() : vector;

    private static async Task<Dictionary<long, float[]?>> SnapshotAsync(IAdaptiveStore<long> store)
    {
        var snapshot = new Dictionary<long, float[]?>();
        for (long key = 0; key < 16; key++)
        {
            snapshot[key] = (await store.GetAsync(key))?.Vector.ToArray();
        }

        return snapshot;
    }

    [SkippableTheory]
    [MemberData(nameof(Stores))]
    public async Task A_batch_with_any_bad_vector_or_a_repeated_key_fails_whole_with_an_ArgumentException_and_good_batches_round_trip(string kind)
    {
        var store = await CreateAsync(kind);
        try
        {
            var accepted = 0;
            await Gen.Select(Gen.Long[0, 15], Vectors).Array[1, 7].SampleAsync(async batch =>
            {
                var records = batch.Select(r => new VectorRecord<long>(r.Item1, r.Item2)).ToArray();
                var mustFail = batch.Any(r => !ValidForLayout(r.Item2)) || batch.Select(r => r.Item1).Distinct().Count() < batch.Length;
                var before = await SnapshotAsync(store);
                var count = await store.CountAsync();

                // The in-memory store is the reference: every store runs the same validation first.
                using var reference = new InMemoryAdaptiveStore<long>(Layout);
                var referenceAccepts = await Accepts(() => reference.UpsertAsync(records));
                Assert.Equal(!mustFail, referenceAccepts);

                try
                {
                    await store.UpsertAsync(records);
                }
                catch (ArgumentException e)
                {
                    Assert.True(mustFail || (kind == "pgvector-halfvec" && e.Message.Contains("halfvec", StringComparison.Ordinal)), e.Message);
                    Assert.Equal(count, await store.CountAsync());
                    Assert.Equal(before, await SnapshotAsync(store), SnapshotComparer.Instance);
                    return;
                }

                Assert.False(mustFail, "a bad batch was written");
                accepted++;
                foreach (var record in records)
                {
                    var got = await store.GetAsync(record.Key);
                    Assert.Equal(Stored(kind, record.Vector.ToArray()), got!.Vector.ToArray());
                }
            }, iter: Iterations, threads: 1);
            Assert.True(accepted > 0, "no batch was good");
        }
        finally
        {
            await DisposeAsync(store);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Stores))]
    public async Task Searches_refuse_bad_queries_k_and_oversampling_with_an_ArgumentException_and_otherwise_return_min_k_count_hits(string kind)
    {
        var store = await CreateAsync(kind);
        try
        {
            await store.UpsertAsync(Enumerable.Range(0, 30).Select(i => TestRows.Record(i, 0, Dimensions)).ToArray());
            var searched = 0;
            var gen = Gen.Select(Vectors, Gen.Frequency((3, Gen.Int[-3, 40]), (1, Gen.Int[99_990, 100_010]), (1, Gen.Int)), Gen.Int[-2, 12], Gen.Enum<SearchStrategy>());
            await gen.SampleAsync(async (query, k, oversampling, rerank) =>
            {
                SearchOptions options;
                try
                {
                    options = new SearchOptions { K = k, Oversampling = oversampling, Strategy = rerank };
                }
                catch (ArgumentOutOfRangeException)
                {
                    Assert.True(k < 1 || k > SearchOptions.MaxCandidates || oversampling < 1);
                    return;
                }

                Assert.False(k < 1 || k > SearchOptions.MaxCandidates || oversampling < 1, "SearchOptions took a bad value");
                var tooMany = options.Reranks && (long)k * oversampling > SearchOptions.MaxCandidates;
                try
                {
                    var hits = (await store.SearchAsync(query, options)).Hits;
                    Assert.True(ValidForLayout(query), "a bad query was searched");
                    Assert.False(tooMany, "more candidates than MaxCandidates were asked for");
                    Assert.Equal(Math.Min(k, 30), hits.Count);
                    searched++;
                }
                catch (ArgumentException e)
                {
                    Assert.True(!ValidForLayout(query) || tooMany || (kind == "pgvector-halfvec" && e.Message.Contains("halfvec", StringComparison.Ordinal)), e.Message);
                }
            }, iter: Iterations, threads: 1);
            output.WriteLine($"{searched} of {Iterations} searches ran");
            Assert.True(searched > 0);
            Assert.Equal(30, await store.CountAsync());
        }
        finally
        {
            await DisposeAsync(store);
        }
    }

    /// <summary>Pieces of hostile text: SQL and JSON syntax, dollar quotes, unicode, a zero-width space, NUL and a lone surrogate.</summary>
    private static readonly Gen<string> Hostile = Gen.OneOf(
            "'", "\"", ";", "--", "/*", "*/", "$body$", "$$", "\\", "%", "_", " ", ".", "{}", "->", "x'); DELETE FROM t; --",
            "DROP TABLE x", "é", "漢字", "😀", "\u200b", "\u0000", "\ud800", "a", "b")
        .Array[1, 5].Select(pieces => string.Concat(pieces));

    /// <summary>Hostile names PostgreSQL can hold: short, without NUL and lone surrogates.</summary>
    private static readonly Gen<string> HostileName = Gen.OneOf(
            "'", "\"", ";", "--", "/*", "$body$", "$$", "\\", "%", " ", ".", "x'); DELETE FROM t; --", "é", "漢字", "😀", "\u200b", "A", "b")
        .Array[1, 3].Select(pieces => string.Concat(pieces));

    private static bool PostgresCanHold(string text) => !text.Contains('\0', StringComparison.Ordinal) && !HostileText.HasLoneSurrogate(text);

    [SkippableTheory]
    [InlineData("pgvector")]
    [InlineData("memory")]
    public async Task Hostile_payload_fields_and_filter_values_round_trip_and_count_like_the_in_memory_store_or_are_refused_before_writing(string kind)
    {
        var store = await CreateAsync(kind);
        using var reference = new InMemoryAdaptiveStore<long>(Layout);
        try
        {
            long key = 0;
            await Gen.Select(Hostile, Hostile, Hostile).SampleAsync(async (field, value, other) =>
            {
                var record = new VectorRecord<long>(++key, TestRows.Vector(key, 0, Dimensions), HostileText.Payload(field, value));
                // Every store refuses invalid Unicode; PostgreSQL also refuses NUL.
                var holdable = kind == "memory"
                    ? !HostileText.HasLoneSurrogate(field) && !HostileText.HasLoneSurrogate(value)
                    : PostgresCanHold(field) && PostgresCanHold(value);
                var count = await store.CountAsync();
                try
                {
                    await store.UpsertAsync([record]);
                    Assert.True(holdable, "text the store cannot hold was accepted");
                }
                catch (ArgumentException e)
                {
                    Assert.False(holdable, e.Message);
                    Assert.Contains(key.ToString(CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
                    Assert.Equal(count, await store.CountAsync());
                    return;
                }

                await reference.UpsertAsync([record]);
                Assert.Equal(value, (await store.GetAsync(key))!.Payload!.Value.GetProperty(field).GetString());
                (Func<Filter> Make, string[] Texts)[] filters =
                [
                    (() => Filter.Eq(field, value), [field, value]),
                    (() => Filter.In(field, [value, other]), [field, value, other]),
                    (() => !Filter.Eq(field, other), [field, other]),
                    (() => Filter.Eq(other, value), [other, value]),
                ];
                foreach (var (make, texts) in filters)
                {
                    Filter filter;
                    try
                    {
                        filter = make();
                    }
                    catch (ArgumentException)
                    {
                        // The filter model refuses blank field names, NUL in field names and invalid Unicode anywhere, for every store.
                        Assert.True(string.IsNullOrWhiteSpace(texts[0]) || texts[0].Contains('\0', StringComparison.Ordinal) || texts.Any(HostileText.HasLoneSurrogate));
                        continue;
                    }

                    var expected = await reference.CountAsync(filter);
                    if (kind == "memory" || texts.All(PostgresCanHold))
                    {
                        Assert.Equal(expected, await store.CountAsync(filter));
                        Assert.True(expected >= 1 || make != filters[0].Make);
                    }
                    else
                    {
                        await Assert.ThrowsAsync<ArgumentException>(() => store.CountAsync(filter));
                    }
                }
            }, iter: Iterations, threads: 1);
            Assert.Equal(await reference.CountAsync(), await store.CountAsync());
        }
        finally
        {
            await DisposeAsync(store);
        }
    }

    [SkippableFact]
    public async Task Hostile_table_and_column_names_are_quoted_or_refused_and_never_reach_the_server_unquoted()
    {
        postgres.RequireServer();
        var layout = new EmbeddingLayout(4, 2);
        var names = Gen.Frequency((4, HostileName), (1, Hostile), (1, Gen.Select(HostileName, Gen.Int[40, 70], (h, n) => h + new string('é', n / 2))));
        var created = 0;
        await Gen.Select(names, names, names).SampleAsync(async (table, vector, payload) =>
        {
            table += Guid.NewGuid().ToString("N")[..4];
            if (vector == payload)
            {
                payload += "p";
            }

            var options = new PgvectorStoreOptions { Table = table, VectorColumn = vector, PayloadColumn = payload, KeyColumn = "id" };
            var refused = new[] { table, vector, payload }.Any(n => n.Contains('\0', StringComparison.Ordinal) || HostileText.HasLoneSurrogate(n) || Encoding.UTF8.GetByteCount(n) > 63);
            PgvectorAdaptiveStore<long> store;
            try
            {
                store = new PgvectorAdaptiveStore<long>(postgres.DataSource, layout, options);
            }
            catch (ArgumentException e)
            {
                Assert.True(refused, e.Message);
                return;
            }

            Assert.False(refused, "a name PostgreSQL would truncate or cannot hold was taken");
            await using (store)
            {
                await store.EnsureSchemaAsync();
                await store.UpsertAsync([new VectorRecord<long>(1, new float[] { 1, 2, 3, 4 }), new VectorRecord<long>(2, new float[] { 4, 3, 2, 1 })]);
                Assert.Equal(2, await store.CountAsync());
                Assert.Equal(1, (await store.SearchAsync(new float[] { 1, 2, 3, 4.1f }, new SearchOptions { K = 2 })).Hits[0].Key);
                Assert.Equal(table, await TestRows.ScalarAsync<string>(postgres.DataSource,
                    $"SELECT relname::text FROM pg_class WHERE oid = to_regclass('{SqlIdentifier.Qualified("public", table).Replace("'", "''", StringComparison.Ordinal)}')"));
                created++;
            }
        }, iter: 30, threads: 1);
        output.WriteLine($"{created} of 30 tables created");
        Assert.True(created > 0);
    }

    [SkippableTheory]
    [MemberData(nameof(Stores))]
    public async Task Empty_batches_change_nothing_and_a_huge_batch_is_written_whole_or_not_at_all(string kind)
    {
        var store = await CreateAsync(kind, upsertBatchSize: 1_000, deferIndexes: true);
        try
        {
            await store.UpsertAsync([]);
            Assert.Equal(0, await store.DeleteAsync([]));
            Assert.Equal(0, await store.CountAsync());

            var huge = TestRows.Records(0, 20_000, generation: 0, Dimensions);
            huge[^1] = huge[^1] with { Vector = new float[] { 1, 2, float.NaN, 4, 5, 6, 7, 8 } };
            var nan = await Assert.ThrowsAnyAsync<ArgumentException>(() => store.UpsertAsync(huge));
            Assert.Contains("19999", nan.Message, StringComparison.Ordinal);
            huge[^1] = TestRows.Record(0, 1, Dimensions);
            var repeated = await Assert.ThrowsAnyAsync<ArgumentException>(() => store.UpsertAsync(huge));
            Assert.Contains("more than once", repeated.Message, StringComparison.Ordinal);
            Assert.Equal(0, await store.CountAsync());

            huge[^1] = TestRows.Record(19_999, 0, Dimensions);
            await store.UpsertAsync(huge);
            Assert.Equal(20_000, await store.CountAsync());
            Assert.Equal(Stored(kind, huge[12_345].Vector.ToArray()), (await store.GetAsync(12_345))!.Vector.ToArray());
            Assert.Equal(3, await store.DeleteAsync([1, 2, 3, 1_000_000]));
        }
        finally
        {
            await DisposeAsync(store);
        }
    }

    [SkippableFact]
    public async Task String_keys_PostgreSQL_cannot_hold_are_refused_by_every_pgvector_call_and_kept_by_the_in_memory_store()
    {
        postgres.RequireServer();
        await using var store = new PgvectorAdaptiveStore<string>(postgres.DataSource, Layout, new PgvectorStoreOptions { Table = postgres.NewTableName("keys") });
        await store.EnsureSchemaAsync();
        using var memory = new InMemoryAdaptiveStore<string>(Layout);
        var vector = TestRows.Vector(1, 0, Dimensions);
        await store.UpsertAsync([new VectorRecord<string>("ok'; DROP TABLE x; --", vector)]);

        foreach (var key in new[] { "nul\0key", "lone\ud800" })
        {
            var batch = new[] { new VectorRecord<string>("fine", vector), new VectorRecord<string>(key, vector) };
            var upsert = await Assert.ThrowsAsync<ArgumentException>(() => store.UpsertAsync(batch));
            Assert.Contains("PostgreSQL text cannot hold it", upsert.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync(key));
            await Assert.ThrowsAsync<ArgumentException>(() => store.DeleteAsync([key]));
            Assert.Equal(1, await store.CountAsync());

            await memory.UpsertAsync(batch);
            Assert.NotNull(await memory.GetAsync(key));
        }

        Assert.NotNull(await store.GetAsync("ok'; DROP TABLE x; --"));
    }

    private static Task<bool> Accepts(Func<Task> upsert) => BadInputGenerators.AcceptsAsync(upsert);

    private sealed class SnapshotComparer : IEqualityComparer<Dictionary<long, float[]?>>
    {
        public static readonly SnapshotComparer Instance = new();

        public bool Equals(Dictionary<long, float[]?>? x, Dictionary<long, float[]?>? y) =>
            x!.Count == y!.Count && x.All(e => y.TryGetValue(e.Key, out var other) && (e.Value is null ? other is null : other is not null && e.Value.AsSpan().SequenceEqual(other)));

        public int GetHashCode(Dictionary<long, float[]?> obj) => obj.Count;
    }
}
