using Microsoft.Extensions.Logging;

namespace Mrl.Adapters.Onnx;

/// <summary>Every message the ONNX encoder logs.</summary>
internal static partial class LogMessages
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "{Truncated} of {Texts} texts were longer than {MaxSequenceLength} tokens and were truncated; split long documents into chunks to embed all of them")]
    public static partial void TextsTruncated(ILogger logger, int truncated, int texts, int maxSequenceLength);
}
