namespace Mrl.Adapters.Diagnostics;

/// <summary>The <c>db.operation.name</c> of each store operation, for <see cref="StoreTelemetry.TraceAsync"/>.</summary>
public static class StoreOperations
{
    /// <summary>A two-pass or single-pass search.</summary>
    public const string Search = "search";

    /// <summary>Writing records.</summary>
    public const string Upsert = "upsert";

    /// <summary>Deleting records by key.</summary>
    public const string Delete = "delete";

    /// <summary>Reading records by key or by filter.</summary>
    public const string Get = "get";

    /// <summary>Counting records.</summary>
    public const string Count = "count";

    /// <summary>Checking or creating the schema.</summary>
    public const string EnsureSchema = "ensure_schema";

    /// <summary>A migration step.</summary>
    public const string Migrate = "migrate";
}
