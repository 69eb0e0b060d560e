using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Qdrant.Client;
using Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests.Support;

/// <summary>A call as the fake server received it: the gRPC method, the request as the client's own message type, and the api-key header.</summary>
internal sealed record RecordedCall(string Method, IMessage Request, string? ApiKey)
{
    /// <summary>The request as the given message type.</summary>
    public T As<T>() where T : IMessage => (T)Request;

    public override string ToString() => Method;
}

/// <summary>
/// An in-process stand-in for a Qdrant gRPC server, below the client's <see cref="GrpcChannel"/>: it reads each gRPC
/// request off the wire (HTTP/2 message framing, protobuf) with the parser of the method's input type from
/// Qdrant.Client's own descriptors, records it, and answers with a scripted message or a gRPC status. The client,
/// its channel, its interceptors and protobuf serialization all run for real; the server does not, and this proves
/// nothing about one.
/// </summary>
internal sealed class FakeQdrantServer : HttpMessageHandler
{
    private static readonly Dictionary<string, MethodDescriptor> Methods = new[]
        {
            CollectionsServiceReflection.Descriptor, PointsServiceReflection.Descriptor, QdrantReflection.Descriptor,
        }
        .SelectMany(file => file.Services)
        .SelectMany(service => service.Methods)
        .ToDictionary(method => method.Service.FullName + "/" + method.Name, StringComparer.Ordinal);

    private readonly Dictionary<string, Func<IMessage, IMessage>> _answers = new(StringComparer.Ordinal);
    private readonly List<RecordedCall> _calls = [];

    public FakeQdrantServer(string version = "1.19.0") => Version = version;

    /// <summary>The version the health check reports.</summary>
    public string Version { get; set; }

    /// <summary>How long each answer waits (honouring cancellation).</summary>
    public TimeSpan Delay { get; set; }

    public IReadOnlyList<RecordedCall> Calls
    {
        get
        {
            lock (_calls)
            {
                return _calls.ToArray();
            }
        }
    }

    /// <summary>Forgets the calls so far (after a test has set up its data through the client).</summary>
    public void Clear()
    {
        lock (_calls)
        {
            _calls.Clear();
        }
    }

    /// <summary>The methods called, in order, e.g. <c>qdrant.Points/Upsert</c>.</summary>
    public IReadOnlyList<string> MethodNames => Calls.Select(c => c.Method).ToArray();

    /// <summary>Answers calls of <paramref name="method"/> (e.g. <c>qdrant.Points/Query</c>); the answer may throw an <see cref="RpcException"/>.</summary>
    public FakeQdrantServer On(string method, Func<IMessage, IMessage> answer)
    {
        if (!Methods.ContainsKey(method))
        {
            throw new ArgumentException($"Qdrant.Client has no gRPC method {method}.", nameof(method));
        }

        _answers[method] = answer;
        return this;
    }

    /// <summary>The answer scripted for <paramref name="method"/>, or null.</summary>
    public Func<IMessage, IMessage>? AnswerFor(string method) => _answers.GetValueOrDefault(method);

    public FakeQdrantServer On<TRequest>(string method, Func<TRequest, IMessage> answer) where TRequest : IMessage =>
        On(method, request => answer((TRequest)request));

    /// <summary>Answers calls of <paramref name="method"/> with a gRPC error status.</summary>
    public FakeQdrantServer Fail(string method, StatusCode status, string detail) =>
        On(method, _ => throw new RpcException(new Status(status, detail)));

    /// <summary>A client whose channel sends through this fake, with the api-key header as Qdrant.Client's own channel adds it.</summary>
    public QdrantClient CreateClient(string? apiKey = Samples.ApiKey, TimeSpan grpcTimeout = default)
    {
        var channel = GrpcChannel.ForAddress("http://qdrant.test:6334", new GrpcChannelOptions { HttpHandler = this, DisposeHttpClient = false });
        var invoker = channel.Intercept(metadata =>
        {
            if (apiKey is not null)
            {
                metadata.Add("api-key", apiKey);
            }

            return metadata;
        });
        return new QdrantClient(new QdrantGrpcClient(invoker), grpcTimeout);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var apiKey = request.Headers.TryGetValues("api-key", out var keys) ? keys.Single() : null;
        var (status, detail, message) = await AnswerAsync(request.RequestUri!.AbsolutePath, body, apiKey, cancellationToken);
        if (message is null)
        {
            return Trailers(status, detail);
        }

        var response = new HttpResponseMessage(HttpStatusCode.OK) { Version = HttpVersion.Version20, Content = new ByteArrayContent(message) };
        response.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        response.TrailingHeaders.Add("grpc-status", "0");
        return response;
    }

    /// <summary>
    /// Answers one gRPC call: <paramref name="path"/> is <c>/qdrant.Points/Upsert</c> and the like, <paramref name="body"/>
    /// the framed request. Returns the framed answer, or null with the error status.
    /// </summary>
    internal async Task<(StatusCode Status, string Detail, byte[]? Message)> AnswerAsync(string path, byte[] body, string? apiKey, CancellationToken cancellationToken)
    {
        var name = path.TrimStart('/');
        if (!Methods.TryGetValue(name, out var method))
        {
            return (StatusCode.Unimplemented, $"No such method {name}", null);
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(1, 4));
        var message = method.InputType.Parser.ParseFrom(body, 5, length);
        lock (_calls)
        {
            _calls.Add(new RecordedCall(name, message, apiKey));
        }

        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, cancellationToken);
        }

        IMessage answer;
        try
        {
            answer = name == "qdrant.Qdrant/HealthCheck" && !_answers.ContainsKey(name)
                ? new HealthCheckReply { Title = "qdrant - vector search engine", Version = Version }
                : _answers.TryGetValue(name, out var script)
                    ? script(message)
                    : throw new RpcException(new Status(StatusCode.Unimplemented, $"No answer scripted for {name}"));
        }
        catch (RpcException e)
        {
            return (e.StatusCode, e.Status.Detail, null);
        }

        var payload = answer.ToByteArray();
        var framed = new byte[payload.Length + 5];
        BinaryPrimitives.WriteInt32BigEndian(framed.AsSpan(1, 4), payload.Length);
        payload.CopyTo(framed, 5);
        return (StatusCode.OK, "", framed);
    }

    // A trailers-only answer: the status in the headers and no message, as a gRPC server sends an error.
    private static HttpResponseMessage Trailers(StatusCode status, string detail)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Version = HttpVersion.Version20, Content = new ByteArrayContent([]) };
        response.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        response.Headers.Add("grpc-status", ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture));
        response.Headers.Add("grpc-message", Uri.EscapeDataString(detail));
        return response;
    }
}
