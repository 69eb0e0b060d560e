namespace Mrl.Adapters.Onnx;

/// <summary>The ONNX model's inputs or outputs are not those of a text encoder this generator can drive, or not those the options name.</summary>
public sealed class OnnxModelSignatureException : Exception
{
    /// <summary>Creates the exception with no message.</summary>
    public OnnxModelSignatureException()
    {
    }

    /// <summary>Creates the exception with a message that says what the model has and what was expected.</summary>
    public OnnxModelSignatureException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that revealed the mismatch.</summary>
    public OnnxModelSignatureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
