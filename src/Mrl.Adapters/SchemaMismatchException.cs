namespace Mrl.Adapters;

/// <summary>The database's table, collection or index is not what the store's layout and options describe.</summary>
public sealed class SchemaMismatchException : Exception
{
    /// <summary>Creates the exception with a message that says what differs and how to fix it.</summary>
    public SchemaMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that revealed the mismatch.</summary>
    public SchemaMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public SchemaMismatchException()
    {
    }
}
