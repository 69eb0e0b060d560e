namespace Mrl.Adapters.Diagnostics;

/// <summary>The <c>db.operation.name</c> of each store operation.</summary>
internal static class StoreOperations
{
    public const string Search = "search";
    public const string Upsert = "upsert";
    public const string Delete = "delete";
    public const string Get = "get";
    public const string Count = "count";
    public const string EnsureSchema = "ensure_schema";
    public const string Migrate = "migrate";
}
