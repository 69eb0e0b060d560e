using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Mrl.Adapters.Reliability.Tests;

/// <summary>
/// A loopback TCP relay between a client and a real server, which can cut every connection (a reset, as a dropped network
/// or a restarted proxy gives) or stall them (bytes are held, both ways, until <see cref="Heal"/>, as a black-holed route gives).
/// Listens on 127.0.0.1 only and forwards only to the one upstream it was given.
/// </summary>
internal sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _upstream;
    private readonly ConcurrentDictionary<int, (Socket Client, Socket Server)> _pairs = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly Lock _gate = new();
    private TaskCompletionSource _flowing = Flowing();
    private int _nextId;
    private int _accepted;

    public TcpRelay(IPEndPoint upstream)
    {
        _upstream = upstream;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Connections open now.</summary>
    public int Open => _pairs.Count;

    /// <summary>Resets every open connection, both sides; returns how many there were.</summary>
    public int CutAll()
    {
        var cut = 0;
        foreach (var id in _pairs.Keys)
        {
            if (_pairs.TryRemove(id, out var pair))
            {
                Reset(pair.Client);
                Reset(pair.Server);
                cut++;
            }
        }

        return cut;
    }

    /// <summary>From now on, holds every byte in both directions, on open and new connections alike.</summary>
    public void Stall()
    {
        lock (_gate)
        {
            if (_flowing.Task.IsCompleted)
            {
                Volatile.Write(ref _flowing, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            }
        }
    }

    /// <summary>Lets held and new bytes flow again.</summary>
    public void Heal()
    {
        lock (_gate)
        {
            _flowing.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Heal();
        CutAll();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }

        _stop.Dispose();
    }

    private static TaskCompletionSource Flowing()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (ObjectDisposedException)
        {
        }
        catch (SocketException)
        {
        }

        socket.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptSocketAsync(_stop.Token);
            Interlocked.Increment(ref _accepted);
            var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            client.NoDelay = true;
            try
            {
                await server.ConnectAsync(_upstream, _stop.Token);
            }
            catch (SocketException)
            {
                Reset(client);
                Reset(server);
                continue;
            }

            var id = Interlocked.Increment(ref _nextId);
            _pairs[id] = (client, server);
            _ = Task.Run(() => PumpAsync(id, client, server));
            _ = Task.Run(() => PumpAsync(id, server, client));
        }
    }

    private async Task PumpAsync(int id, Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                await Volatile.Read(ref _flowing).Task.WaitAsync(_stop.Token);
                var sent = 0;
                while (sent < read)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, _stop.Token);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            // The other pump, a cut, or the end of the test closed the pair.
        }

        if (_pairs.TryRemove(id, out var pair))
        {
            pair.Client.Dispose();
            pair.Server.Dispose();
        }
    }
}
