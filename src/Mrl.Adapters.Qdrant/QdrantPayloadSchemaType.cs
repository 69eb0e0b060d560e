using System.Diagnostics.CodeAnalysis;

namespace Mrl.Adapters.Qdrant;

/// <summary>The type of a Qdrant payload index (Qdrant's <c>PayloadSchemaType</c>).</summary>
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The members are named as Qdrant names its index types.")]
public enum QdrantPayloadSchemaType
{
    /// <summary><c>keyword</c>: exact string matches, for <see cref="Filter.Eq"/> and <see cref="Filter.In"/> on strings.</summary>
    Keyword,

    /// <summary><c>integer</c>: whole-number matches and ranges.</summary>
    Integer,

    /// <summary><c>float</c>: numeric ranges.</summary>
    Float,

    /// <summary><c>bool</c>: true/false matches.</summary>
    Bool,

    /// <summary><c>datetime</c>: date ranges on RFC 3339 strings.</summary>
    Datetime,

    /// <summary><c>uuid</c>: exact matches on UUID strings.</summary>
    Uuid,

    /// <summary><c>text</c>: full-text matching (not used by the core filter model).</summary>
    Text,

    /// <summary><c>geo</c>: geographic conditions (not used by the core filter model).</summary>
    Geo,
}
