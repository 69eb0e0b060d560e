using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Mrl.Adapters.Reliability.Tests;

/// <summary>Keeps every message logged, so that a test can count the retries a store made.</summary>
internal sealed class RecordingLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<string> _messages = new();

    public IReadOnlyCollection<string> Messages => _messages;

    public int Retries => _messages.Count(m => m.StartsWith("Transient PostgreSQL error", StringComparison.Ordinal));

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _messages.Enqueue(formatter(state, exception));
}
