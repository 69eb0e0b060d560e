namespace Mrl.Adapters.Pgvector;

/// <summary>
/// Catalog queries that tell what is in the database before anything is changed: where pgvector lives, what a table is, and
/// which of the objects a migration creates already exist. Tables are passed by qualified name in <c>$1</c>.
/// </summary>
internal static class PgvectorCatalog
{
    /// <summary>pgvector's version and the schema it was installed in; no row when the extension is missing.</summary>
    public const string Extension =
        "SELECT e.extversion, n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'";
}
