using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace Mrl.Adapters.VectorData;

/// <summary>
/// What an adaptive collection accepts: one key (string, Guid, long or int), data properties that serialize to JSON
/// scalars or arrays of them, and exactly one vector property holding the full vector (or input for an embedding generator).
/// </summary>
internal sealed class AdaptiveModelBuilder()
    : CollectionModelBuilder(new CollectionModelBuildingOptions { SupportsMultipleVectors = false, RequiresAtLeastOneVector = true })
{
    public const string SupportedVectorTypes = "ReadOnlyMemory<float>, Embedding<float>, float[]";

    private const string SupportedDataTypes =
        "string, bool, int, long, short, byte, float, double, decimal, DateTime, DateTimeOffset, DateOnly, TimeOnly, Guid, enums, their nullable forms, and arrays or lists of these";

    private static readonly HashSet<Type> ScalarTypes =
    [
        typeof(string), typeof(bool), typeof(int), typeof(long), typeof(short), typeof(byte), typeof(sbyte), typeof(uint), typeof(ushort),
        typeof(float), typeof(double), typeof(decimal), typeof(DateTime), typeof(DateTimeOffset), typeof(DateOnly), typeof(TimeOnly), typeof(Guid),
    ];

    private static readonly HashSet<Type> KeyTypes = [typeof(string), typeof(Guid), typeof(long), typeof(int)];

    public static bool IsNativeVectorType(Type type) =>
        type == typeof(ReadOnlyMemory<float>) || type == typeof(ReadOnlyMemory<float>?) || type == typeof(float[]) || type == typeof(Embedding<float>);

    protected override bool IsDataPropertyTypeValid(Type type, [NotNullWhen(false)] out string? supportedTypes)
    {
        supportedTypes = SupportedDataTypes;
        return IsScalar(type) || (ElementType(type) is { } element && IsScalar(element));
    }

    protected override bool IsVectorPropertyTypeValid(Type type, [NotNullWhen(false)] out string? supportedTypes)
    {
        supportedTypes = SupportedVectorTypes;
        return IsNativeVectorType(type);
    }

    protected override void ValidateKeyProperty(KeyPropertyModel keyProperty)
    {
        base.ValidateKeyProperty(keyProperty);
        if (!KeyTypes.Contains(keyProperty.Type))
        {
            throw new NotSupportedException(
                $"Key property '{keyProperty.ModelName}' is {keyProperty.Type.Name}; adaptive collections support string, Guid, long and int keys.");
        }
    }

    protected override void ValidateProperty(PropertyModel propertyModel, VectorStoreCollectionDefinition? definition)
    {
        base.ValidateProperty(propertyModel, definition);
        if (propertyModel is VectorPropertyModel vector)
        {
            ScoreMapping.For(vector);
            if (vector.IndexKind is not (null or IndexKind.Hnsw or IndexKind.Flat))
            {
                throw new NotSupportedException(
                    $"Index kind '{vector.IndexKind}' on vector property '{vector.ModelName}' is not supported; the prefix is indexed with the store's HNSW index (or scanned exactly in memory).");
            }
        }
    }

    /// <summary>The element type of an array or generic collection, or null.</summary>
    internal static Type? ElementType(Type type)
    {
        if (type == typeof(string))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        return type.IsGenericType && type.GetGenericArguments() is [var element] &&
               typeof(IEnumerable<>).MakeGenericType(element).IsAssignableFrom(type)
            ? element
            : null;
    }

    private static bool IsScalar(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        return ScalarTypes.Contains(underlying) || underlying.IsEnum;
    }
}
