using System.Globalization;
using CsCheck;
using Google.Protobuf;
using Mrl.Adapters.InMemory;
using Mrl.Adapters.Qdrant.Tests.Support;
using Mrl.Adapters.Testing;
using Mrl.Adapters.Tests.Shared;
using Qdrant.Client;
using Xunit.Abstractions;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>
/// Property-based checks over the public API of the Qdrant store, the same properties the in-memory and pgvector stores
/// are held to in Mrl.Adapters.Reliability.Tests. There is no server: a fake gRPC server under a real QdrantClient
/// records every call and answers from an in-memory collection. Bad input gets an <see cref="ArgumentException"/> naming
/// the problem and sends nothing, good input is sent whole, every call that is made uses only what Qdrant 1.19's gRPC
/// API has, and hostile text reaches a message only as a string value.
/// </summary>
public sealed class BadInputPropertyTests : IDisposable
{
    private const int Dimensions = 8;
    private const int Iterations = 60;
    private static readonly EmbeddingLayout Layout = new(Dimensions, 3);

    private readonly ITestOutputHelper _output;
    private readonly FakeQdrantServer _qdrant = new();
    private readonly QdrantClient _client;

    public BadInputPropertyTests(ITestOutputHelper output)
    {
        _output = output;
        _client = _qdrant.CreateClient();
    }

    public void Dispose()
    {
        _client.Dispose();
        _qdrant.Dispose();
    }

    private static readonly Gen<float[]> Vectors = BadInputGenerators.Vectors(Dimensions, Layout.PrefixDimensions);

    /// <summary>Pieces of hostile text: JSON syntax, Qdrant key-path syntax, SQL, unicode, a zero-width space, NUL and a lone surrogate.</summary>
    private static readonly Gen<string> Hostile = Gen.OneOf(
            "'", "\"", ";", "--", "\\", "%", " ", ".", "[]", "[0]", "{}", "\":{\"must\":[]},\"", "\"}]}", "->", "x'); DELETE FROM t; --",
            "é", "漢字", "😀", "\u200b", "\u0000", "\n", "\ud800", "a", "b")
        .Array[1, 5].Select(pieces => string.Concat(pieces));

    /// <summary>Collection names: path syntax, percent escapes, the characters Qdrant refuses, unicode, NUL, a lone surrogate.</summary>
    private static readonly Gen<string> HostileCollectionName = Gen.OneOf(
            "'", "\"", ";", "--", "$body$", "\\", "%", "%2e", "%2F", " ", ".", "..", "?", "#", "&", "=", "+", "<", ">", ":", "|", "*",
            "\u0000", "\u001f", "\ud800", "é", "漢字", "😀", "\u200b", "x'); DELETE FROM t; --", "{}", "A", "b")
        .Array[1, 3].Select(pieces => string.Concat(pieces));

    private static bool ValidForLayout(float[] vector) => BadInputGenerators.ValidFor(Layout, vector);

    private static float[] Vector(long key)
    {
        var random = new Random(unchecked((int)key * 7919 + 17));
        var vector = new float[Dimensions];
        for (var i = 0; i < Dimensions; i++)
        {
            vector[i] = (float)(random.NextDouble() * 2 - 1);
        }

        vector[0] += 2f;
        return vector;
    }

    private static Task<bool> Accepts(Func<Task> upsert) => BadInputGenerators.AcceptsAsync(upsert);

    private QdrantAdaptiveStore<TKey> Store<TKey>(int maxRequestBytes = QdrantStoreOptions.DefaultMaxRequestBytes, string collection = "docs") where TKey : notnull
    {
        var options = Samples.Options(Layout, collection);
        options.MaxRequestBytes = maxRequestBytes;
        return new QdrantAdaptiveStore<TKey>(_client, options);
    }

    private static void AssertMatchesSpec(IEnumerable<RecordedCall> calls) => ProtoSurface.Of("1.19.0").AssertSupports(calls);

    private RecordedCall[] RequestsSince(int count) => _qdrant.Calls.Skip(count).ToArray();

    private FakeQdrantCollection Collection(string name = "docs", bool exists = true) =>
        new(_qdrant, name, exists ? FakeQdrantCollection.StoreVectors(Layout) : null);

    [Fact]
    public async Task A_batch_with_any_bad_vector_a_repeated_or_negative_key_fails_whole_with_an_ArgumentException_before_any_call_and_good_batches_are_sent_whole()
    {
        var collection = Collection();
        // Small messages, so that a good batch goes out in several: a check made only while sending would leave earlier requests behind.
        var store = Store<long>(maxRequestBytes: 1024);
        var accepted = 0;
        var anyBatch = Gen.Select(Gen.Frequency((8, Gen.Long[0, 15]), (1, Gen.Long[-2, -1])), Vectors).Array[1, 7];
        var plainBatch = Gen.Select(Gen.Long[0, 15], Gen.Single[-1f, 1f].Array[Dimensions]).Array[1, 7].Select(b => b.DistinctBy(r => r.Item1).ToArray());
        await Gen.Frequency((3, anyBatch), (1, plainBatch)).SampleAsync(async batch =>
        {
            var records = batch.Select(r => new VectorRecord<long>(r.Item1, r.Item2)).ToArray();
            var firstBad = -1;
            for (var i = 0; i < batch.Length && firstBad < 0; i++)
            {
                var key = batch[i].Item1;
                if (!ValidForLayout(batch[i].Item2) || batch.Take(i).Any(e => e.Item1 == key))
                {
                    firstBad = i;
                }
            }

            var firstNegative = Array.FindIndex(batch, r => r.Item1 < 0);

            // The in-memory store is the reference for the core's checks; Qdrant point ids add one of their own (no negative numbers).
            using var reference = new InMemoryAdaptiveStore<long>(Layout);
            Assert.Equal(firstBad < 0, await Accepts(() => reference.UpsertAsync(records)));

            var sent = _qdrant.Calls.Count;
            var points = collection.PointCount;
            try
            {
                await store.UpsertAsync(records);
            }
            catch (ArgumentException e)
            {
                Assert.True(firstBad >= 0 || firstNegative >= 0, e.Message);
                if (firstBad >= 0)
                {
                    var (key, vector) = batch[firstBad];
                    var k = key.ToString(CultureInfo.InvariantCulture);
                    Assert.Contains(ValidForLayout(vector) ? $"Record {k} appears more than once" : $"Invalid vector for record {k} (position {firstBad})", e.Message, StringComparison.Ordinal);
                }
                else
                {
                    Assert.Contains($"Key {batch[firstNegative].Item1.ToString(CultureInfo.InvariantCulture)} is negative", e.Message, StringComparison.Ordinal);
                }

                Assert.Empty(RequestsSince(sent));
                Assert.Equal(points, collection.PointCount);
                return;
            }

            Assert.True(firstBad < 0 && firstNegative < 0, "a bad batch was sent");
            accepted++;
            var requests = RequestsSince(sent);
            Assert.All(requests, r => Assert.Equal("qdrant.Points/Upsert", r.Method));
            Assert.All(requests, r => Assert.True(r.Request.CalculateSize() <= 1024, $"{r.Request.CalculateSize()} bytes"));
            AssertMatchesSpec(requests);
            var written = requests.SelectMany(r => r.As<Proto.UpsertPoints>().Points).ToArray();
            Assert.Equal(records.Select(r => r.Key), written.Select(p => (long)p.Id.Num));
            for (var i = 0; i < records.Length; i++)
            {
                var vectors = written[i].Vectors.Vectors_.Vectors;
                Assert.Equal(records[i].Vector.ToArray(), vectors["full"].Dense.Data);
                Assert.Equal(Layout.ToPrefix(records[i].Vector.Span), vectors["prefix"].Dense.Data);
            }
        }, iter: Iterations, threads: 1);
        _output.WriteLine($"{accepted} of {Iterations} batches sent");
        Assert.True(accepted > 0, "no batch was good");
    }

    [Fact]
    public async Task Searches_refuse_bad_queries_k_and_oversampling_with_an_ArgumentException_before_any_call_and_otherwise_return_min_k_count_hits()
    {
        var collection = Collection();
        var store = Store<long>();
        await store.UpsertAsync(Enumerable.Range(0, 30).Select(i => new VectorRecord<long>(i, Vector(i))).ToArray());
        var searched = 0;
        var gen = Gen.Select(Vectors, Gen.Frequency((3, Gen.Int[-3, 40]), (1, Gen.Int[99_990, 100_010]), (1, Gen.Int)), Gen.Int[-2, 12], Gen.Enum<SearchStrategy>());
        await gen.SampleAsync(async (query, k, oversampling, rerank) =>
        {
            SearchOptions options;
            try
            {
                options = new SearchOptions { K = k, Oversampling = oversampling, Strategy = rerank };
            }
            catch (ArgumentOutOfRangeException e)
            {
                Assert.True(k < 1 || k > SearchOptions.MaxCandidates || oversampling < 1);
                Assert.Contains(k < 1 || k > SearchOptions.MaxCandidates ? "K must be between" : "Oversampling must be at least", e.Message, StringComparison.Ordinal);
                return;
            }

            Assert.False(k < 1 || k > SearchOptions.MaxCandidates || oversampling < 1, "SearchOptions took a bad value");
            var candidates = options.Reranks ? (long)k * oversampling : k;
            var sent = _qdrant.Calls.Count;
            try
            {
                var hits = (await store.SearchAsync(query, options)).Hits;
                Assert.True(ValidForLayout(query), "a bad query was searched");
                Assert.False(candidates > SearchOptions.MaxCandidates, "more candidates than MaxCandidates were asked for");
                Assert.Equal(Math.Min(k, 30), hits.Count);
                var request = Assert.Single(RequestsSince(sent));
                Assert.Equal("qdrant.Points/Query", request.Method);
                AssertMatchesSpec([request]);
                var sentQuery = request.As<Proto.QueryPoints>();
                var limit = rerank == SearchStrategy.TwoPassInDatabase ? sentQuery.Prefetch[0].Limit : sentQuery.Limit;
                Assert.Equal(candidates, (long)limit);
                searched++;
            }
            catch (ArgumentException e)
            {
                Assert.True(!ValidForLayout(query) || candidates > SearchOptions.MaxCandidates, e.Message);
                Assert.Contains(ValidForLayout(query) ? "exceeds the limit" : "Invalid vector for the query", e.Message, StringComparison.Ordinal);
                Assert.Empty(RequestsSince(sent));
            }
        }, iter: Iterations, threads: 1);
        _output.WriteLine($"{searched} of {Iterations} searches sent");
        Assert.True(searched > 0);
        Assert.Equal(30, collection.PointCount);
    }

    [Fact]
    public async Task Hostile_payload_fields_and_filter_values_are_sent_verbatim_as_protobuf_strings_and_count_like_the_in_memory_store_or_are_refused_before_any_call()
    {
        var collection = Collection();
        var store = Store<long>();
        using var reference = new InMemoryAdaptiveStore<long>(Layout);
        long key = 0;
        await Gen.Select(Hostile, Hostile, Hostile).SampleAsync(async (field, value, other) =>
        {
            var record = new VectorRecord<long>(++key, Vector(key), HostileText.Payload(field, value));
            var holdable = !HostileText.HasLoneSurrogate(field) && !HostileText.HasLoneSurrogate(value);
            var sent = _qdrant.Calls.Count;
            try
            {
                await store.UpsertAsync([record]);
                Assert.True(holdable, "text that has no UTF-8 form was sent");
            }
            catch (ArgumentException e)
            {
                Assert.False(holdable, e.Message);
                Assert.Contains($"record {key.ToString(CultureInfo.InvariantCulture)} (position 0)", e.Message, StringComparison.Ordinal);
                Assert.Contains("not valid Unicode", e.Message, StringComparison.Ordinal);
                Assert.Empty(RequestsSince(sent));
                return;
            }

            await reference.UpsertAsync([record]);
            var upsert = Assert.Single(RequestsSince(sent));
            AssertMatchesSpec([upsert]);
            var point = Assert.Single(upsert.As<Proto.UpsertPoints>().Points);
            Assert.Equal(Proto.Value.KindOneofCase.IntegerValue, point.Payload[QdrantKeyMapping.VersionPayloadField].KindCase);
            var (sentField, sentValue) = Assert.Single(point.Payload, p => p.Key != QdrantKeyMapping.VersionPayloadField);
            Assert.Equal(field, sentField);
            Assert.Equal(Proto.Value.KindOneofCase.StringValue, sentValue.KindCase);
            Assert.Equal(value, sentValue.StringValue);

            (Func<Filter> Make, string[] Texts, Func<Proto.Filter> Expected)[] filters =
            [
                (() => Filter.Eq(field, value), [field, value], () => new Proto.Filter { Must = { Match(field, value) } }),
                (() => Filter.In(field, [value, other]), [field, value, other], () => new Proto.Filter { Must = { MatchAny(field, value == other ? [value] : [value, other]) } }),
                (() => !Filter.Eq(field, other), [field, other], () => new Proto.Filter { MustNot = { Match(field, other) } }),
                (() => Filter.Eq(other, value), [other, value], () => new Proto.Filter { Must = { Match(other, value) } }),
            ];
            foreach (var (make, texts, expected) in filters)
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

                sent = _qdrant.Calls.Count;
                if (texts[0].AsSpan().IndexOfAny('"', '\\') >= 0)
                {
                    // A Qdrant key path has no escape for these: refused before anything is sent, for counts and searches alike.
                    var refused = await Assert.ThrowsAsync<ArgumentException>(() => store.CountAsync(filter));
                    Assert.Contains("double quote or a backslash", refused.Message, StringComparison.Ordinal);
                    await Assert.ThrowsAsync<ArgumentException>(() => store.SearchAsync(Vector(key), new SearchOptions { K = 3, Filter = filter }));
                    Assert.Empty(RequestsSince(sent));
                    continue;
                }

                var expectedCount = await reference.CountAsync(filter);
                Assert.Equal(expectedCount, await store.CountAsync(filter));
                Assert.True(expectedCount >= 1 || make != filters[0].Make);
                await store.SearchAsync(Vector(key), new SearchOptions { K = 3, Filter = filter, Strategy = SearchStrategy.TwoPassInDatabase });
                var requests = RequestsSince(sent);
                Assert.Equal(["qdrant.Points/Count", "qdrant.Points/Query"], requests.Select(r => r.Method));
                AssertMatchesSpec(requests);
                var query = requests[1].As<Proto.QueryPoints>();
                foreach (var sentFilter in new[] { requests[0].As<Proto.CountPoints>().Filter, query.Filter, query.Prefetch[0].Filter })
                {
                    Assert.Equal(expected(), sentFilter);
                }
            }
        }, iter: Iterations, threads: 1);
        Assert.Equal(await reference.CountAsync(), collection.PointCount);
    }

    // The key path Qdrant reads as one top-level field: bare for ASCII letters, digits, '_' and '-', double-quoted otherwise.
    private static string KeyPath(string field) => field.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? field : "\"" + field + "\"";

    private static Proto.Condition Match(string field, string value) =>
        new() { Field = new Proto.FieldCondition { Key = KeyPath(field), Match = new Proto.Match { Keyword = value } } };

    private static Proto.Condition MatchAny(string field, string[] values) =>
        new() { Field = new Proto.FieldCondition { Key = KeyPath(field), Match = new Proto.Match { Keywords = new Proto.RepeatedStrings { Strings = { values } } } } };

    [Fact]
    public async Task Hostile_collection_names_are_sent_verbatim_or_refused_before_any_call()
    {
        var names = Gen.Frequency(
            (5, HostileCollectionName),
            (1, Gen.OneOf(Gen.Const("."), Gen.Const(".."), Gen.Const(" "), Gen.Const("./x"), Gen.Const("../x"))),
            (1, Gen.Select(HostileCollectionName, Gen.Int[245, 265], (h, n) => h + new string('é', Math.Max(0, n - h.Length)))),
            (1, Gen.Int[250, 260].Select(n => string.Concat(Enumerable.Repeat("😀", n)))));
        var created = 0;
        await names.SampleAsync(async name =>
        {
            using var qdrant = new FakeQdrantServer();
            using var client = qdrant.CreateClient();
            var options = Samples.Options(Layout, name);
            var factory = new QdrantAdaptiveStoreFactory(client, (_, o) => o.ApiKey = options.ApiKey);
            QdrantAdaptiveStore<long> store;
            try
            {
                store = new QdrantAdaptiveStore<long>(client, options);
            }
            catch (ArgumentException e)
            {
                Assert.True(QdrantRefuses(name), e.Message);
                Assert.Contains("Collection", e.Message, StringComparison.Ordinal);
                Assert.Throws<ArgumentException>(() => factory.GetStore<long>(name, Layout));
                await Assert.ThrowsAsync<ArgumentException>(() => factory.CollectionExistsAsync(name));
                await Assert.ThrowsAsync<ArgumentException>(() => factory.DeleteCollectionAsync(name));
                Assert.Empty(qdrant.Calls);
                return;
            }

            Assert.False(QdrantRefuses(name), "a name Qdrant cannot hold was taken");
            var collection = new FakeQdrantCollection(qdrant, name);
            await store.EnsureSchemaAsync();
            await store.UpsertAsync([new VectorRecord<long>(1, Vector(1)), new VectorRecord<long>(2, Vector(2))]);
            Assert.Equal(2, await store.CountAsync());
            Assert.Equal(2, (await store.SearchAsync(Vector(1), new SearchOptions { K = 2 })).Hits.Count);
            Assert.NotNull(await store.GetAsync(1));
            Assert.Equal(1, await store.DeleteAsync([1]));
            Assert.Equal(1, collection.PointCount);

            var calls = qdrant.Calls;
            Assert.Equal(
                ["qdrant.Qdrant/HealthCheck", "qdrant.Collections/Get", "qdrant.Collections/Create", "qdrant.Points/Upsert", "qdrant.Points/Count", "qdrant.Points/Query",
                 "qdrant.Points/Get", "qdrant.Points/Get", "qdrant.Points/Delete"],
                calls.Select(c => c.Method));
            Assert.All(calls.Skip(1), c => Assert.Equal(name, (string)c.Request.Descriptor.FindFieldByName("collection_name").Accessor.GetValue(c.Request)));
            AssertMatchesSpec(calls);
            created++;
        }, iter: 30, threads: 1);
        _output.WriteLine($"{created} of 30 collections created");
        Assert.True(created > 0);
    }

    // What Qdrant refuses in a collection name, and '.' and '..', which name directories around Qdrant's collection folders.
    private static bool QdrantRefuses(string name) =>
        string.IsNullOrWhiteSpace(name) || name is "." or ".." || HostileText.HasLoneSurrogate(name) ||
        name.IndexOfAny(['<', '>', ':', '"', '/', '\\', '|', '?', '*', '\0', '\u001f']) >= 0 ||
        name.EnumerateRunes().Count() > 255;

    [Fact]
    public async Task Empty_batches_send_nothing_and_a_huge_batch_is_sent_whole_or_not_at_all()
    {
        var collection = Collection();
        var store = Store<long>(maxRequestBytes: 64 * 1024);

        await store.UpsertAsync([]);
        Assert.Equal(0, await store.DeleteAsync([]));
        Assert.Empty(_qdrant.Calls);

        var huge = Enumerable.Range(0, 20_000).Select(i => new VectorRecord<long>(i, Vector(i))).ToArray();
        huge[^1] = huge[^1] with { Vector = new float[] { 1, 2, float.NaN, 4, 5, 6, 7, 8 } };
        var nan = await Assert.ThrowsAnyAsync<ArgumentException>(() => store.UpsertAsync(huge));
        Assert.Contains("record 19999 (position 19999): value 2 is NaN", nan.Message, StringComparison.Ordinal);
        huge[^1] = new VectorRecord<long>(0, Vector(0));
        var repeated = await Assert.ThrowsAnyAsync<ArgumentException>(() => store.UpsertAsync(huge));
        Assert.Contains("more than once", repeated.Message, StringComparison.Ordinal);
        huge[^1] = new VectorRecord<long>(-1, Vector(0));
        var negative = await Assert.ThrowsAnyAsync<ArgumentException>(() => store.UpsertAsync(huge));
        Assert.Contains("Key -1 is negative", negative.Message, StringComparison.Ordinal);
        Assert.Empty(_qdrant.Calls);

        huge[^1] = new VectorRecord<long>(19_999, Vector(19_999));
        await store.UpsertAsync(huge);
        var requests = _qdrant.Calls;
        Assert.True(requests.Count > 10, $"{requests.Count} calls");
        Assert.All(requests, r => Assert.True(r.Request.CalculateSize() <= 64 * 1024));
        AssertMatchesSpec(requests);
        Assert.Equal(20_000, collection.PointCount);

        Assert.Equal(3, await store.DeleteAsync([1, 2, 3, 1_000_000]));
        Assert.Equal(19_997, collection.PointCount);
        AssertMatchesSpec(RequestsSince(requests.Count));
    }

    [Fact]
    public async Task String_keys_Qdrant_cannot_hold_are_refused_by_every_call_before_any_call_and_nul_is_kept_verbatim()
    {
        var collection = Collection();
        var store = Store<string>();
        var vector = Vector(1);

        await store.UpsertAsync([new VectorRecord<string>("nul\0key", vector), new VectorRecord<string>("ok'; DROP TABLE x; --", vector)]);
        Assert.Equal(
            ["nul\0key", "ok'; DROP TABLE x; --"],
            Assert.Single(_qdrant.Calls).As<Proto.UpsertPoints>().Points.Select(p => p.Payload[QdrantKeyMapping.KeyPayloadField].StringValue));

        Assert.Equal("nul\0key", (await store.GetAsync("nul\0key"))!.Key);
        var sent = _qdrant.Calls.Count;

        foreach (var key in new[] { "lone\ud800", "\udc00x" })
        {
            var upsert = await Assert.ThrowsAsync<ArgumentException>(() => store.UpsertAsync([new VectorRecord<string>("fine", vector), new VectorRecord<string>(key, vector)]));
            Assert.Contains("is not valid Unicode", upsert.Message, StringComparison.Ordinal);
            Assert.Null(await store.GetAsync(key));
            Assert.Equal(0, await store.DeleteAsync([key]));
        }

        Assert.Empty(RequestsSince(sent));
        Assert.Equal(2, collection.PointCount);
    }

    [Fact]
    public async Task Payload_index_fields_are_sent_as_the_key_paths_filters_use_and_unaddressable_ones_are_refused_before_any_call()
    {
        var collection = Collection(exists: false);
        string[] fields = ["plain_field-1", "with.dot", "nested.path", "with space", "a[0]", "é", "x'); DROP TABLE t; --"];
        var options = Samples.Options(Layout);
        foreach (var field in fields)
        {
            options.PayloadIndexes.Add(new QdrantPayloadIndex(field, QdrantPayloadSchemaType.Keyword));
        }

        await new QdrantAdaptiveStore<long>(_client, options).EnsureSchemaAsync();

        var indexes = _qdrant.Calls.Where(r => r.Method == "qdrant.Points/CreateFieldIndex").ToArray();
        Assert.Equal(fields.Select(KeyPath), indexes.Select(r => r.As<Proto.CreateFieldIndexCollection>().FieldName));
        AssertMatchesSpec(_qdrant.Calls);

        // Qdrant reports a key bare when its own rule allows (any Unicode letter), quoted otherwise: neither is created again.
        var sent = _qdrant.Calls.Count;
        // A bare "nested.path" is an index on field "path" inside "nested", which is not the field "nested.path".
        using var again = new FakeQdrantServer();
        using var againClient = again.CreateClient();
        var existing = new FakeQdrantCollection(again, vectors: FakeQdrantCollection.StoreVectors(Layout));
        existing.AddPayloadIndex("é", Proto.PayloadSchemaType.Keyword);
        existing.AddPayloadIndex("\"with.dot\"", Proto.PayloadSchemaType.Keyword);
        existing.AddPayloadIndex("nested.path", Proto.PayloadSchemaType.Keyword);
        await new QdrantAdaptiveStore<long>(againClient, options).EnsureSchemaAsync();
        Assert.Equal(
            ["plain_field-1", "\"nested.path\"", "\"with space\"", "\"a[0]\"", "\"x'); DROP TABLE t; --\""],
            again.Calls.Where(r => r.Method == "qdrant.Points/CreateFieldIndex").Select(r => r.As<Proto.CreateFieldIndexCollection>().FieldName));

        foreach (var bad in new[] { "quote\"d", "back\\slash", "lone\ud800" })
        {
            var refused = Samples.Options(Layout);
            refused.PayloadIndexes.Add(new QdrantPayloadIndex(bad, QdrantPayloadSchemaType.Keyword));
            var error = Assert.Throws<ArgumentException>(() => new QdrantAdaptiveStore<long>(_client, refused));
            Assert.Contains($"payload index field '{bad}'", error.Message, StringComparison.Ordinal);
        }

        Assert.Empty(RequestsSince(sent));
        Assert.Equal(0, collection.PointCount);
    }

    [Fact]
    public async Task Candidate_requests_with_a_bad_count_or_prefix_are_refused_before_any_call()
    {
        var store = Store<long>();
        var prefix = Layout.ToPrefix(Vector(1));
        var bad = new[]
        {
            (new CandidateRequest(prefix, 0, null, true, null), "between 1 and 100000, got 0"),
            (new CandidateRequest(prefix, -5, null, true, null), "got -5"),
            (new CandidateRequest(prefix, SearchOptions.MaxCandidates + 1, null, true, null), "got 100001"),
            (new CandidateRequest(new float[Dimensions], 10, null, true, null), "expected 3 dimensions, got 8"),
            (new CandidateRequest(new[] { 1f, float.NaN, 0f }, 10, null, true, null), "value 1 is NaN"),
        };

        foreach (var (request, message) in bad)
        {
            var error = await Assert.ThrowsAnyAsync<ArgumentException>(async () => await ((ICandidateSource<long>)store).FetchCandidatesAsync(request, CancellationToken.None));
            Assert.Contains(message, error.Message, StringComparison.Ordinal);
        }

        Assert.Empty(_qdrant.Calls);
    }
}
