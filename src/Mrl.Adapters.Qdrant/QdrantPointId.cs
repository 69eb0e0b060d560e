using System.Globalization;

namespace Mrl.Adapters.Qdrant;

/// <summary>A Qdrant point id: an unsigned 64-bit integer or a UUID, as Qdrant's <c>ExtendedPointId</c>.</summary>
public readonly record struct QdrantPointId
{
    private readonly ulong _number;
    private readonly Guid _uuid;

    private QdrantPointId(ulong number, Guid uuid, bool isUuid)
    {
        _number = number;
        _uuid = uuid;
        IsUuid = isUuid;
    }

    /// <summary>Whether the id is a UUID (otherwise it is a number).</summary>
    public bool IsUuid { get; }

    /// <summary>The number, for a numeric id.</summary>
    /// <exception cref="InvalidOperationException">The id is a UUID.</exception>
    public ulong Number => IsUuid ? throw new InvalidOperationException($"Point id {this} is a UUID, not a number.") : _number;

    /// <summary>The UUID, for a UUID id.</summary>
    /// <exception cref="InvalidOperationException">The id is a number.</exception>
    public Guid Uuid => IsUuid ? _uuid : throw new InvalidOperationException($"Point id {this} is a number, not a UUID.");

    /// <summary>A numeric id.</summary>
    public static QdrantPointId FromNumber(ulong number) => new(number, Guid.Empty, false);

    /// <summary>A UUID id.</summary>
    public static QdrantPointId FromUuid(Guid uuid) => new(0, uuid, true);

    /// <summary>Parses the text <see cref="ToString"/> writes: digits for a number, a UUID otherwise.</summary>
    /// <exception cref="FormatException">The text is neither an unsigned integer nor a UUID.</exception>
    public static QdrantPointId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return FromNumber(number);
        }

        if (Guid.TryParse(text, out var uuid))
        {
            return FromUuid(uuid);
        }

        throw new FormatException($"'{text}' is neither an unsigned integer nor a UUID, so it is not a Qdrant point id.");
    }

    /// <summary>The id as digits or as a lower-case hyphenated UUID.</summary>
    public override string ToString() =>
        IsUuid ? _uuid.ToString("D", CultureInfo.InvariantCulture) : _number.ToString(CultureInfo.InvariantCulture);
}
