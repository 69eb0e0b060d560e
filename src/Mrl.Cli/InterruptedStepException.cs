namespace Mrl.Cli;

/// <summary>A cancellation that left something behind the user should know about; the message says what, and how to repair it.</summary>
internal sealed class InterruptedStepException(string message, OperationCanceledException inner)
    : OperationCanceledException(message, inner, inner.CancellationToken);
