using System.Collections;
using System.Globalization;
using System.Linq.Expressions;
using Microsoft.Extensions.VectorData.ProviderServices;
using Microsoft.Extensions.VectorData.ProviderServices.Filter;
using Mrl.Adapters.Filtering;

namespace Mrl.Adapters.VectorData;

/// <summary>
/// Translates a MEVD LINQ filter into the core <see cref="Filter"/> model, so that every store runs it: <c>==</c>,
/// <c>!=</c> (as not-equal), <c>&lt;</c>, <c>&lt;=</c>, <c>&gt;</c>, <c>&gt;=</c>, <c>&amp;&amp;</c>, <c>||</c>, <c>!</c>,
/// a bare boolean property, <c>Contains</c> on a captured array or list (the field is one of the values) and on an array
/// or list property (the field holds the value), with captured variables inlined. Anything else throws
/// <see cref="NotSupportedException"/> naming the expression; an expression nested too deeply throws <see cref="ArgumentException"/>.
/// </summary>
internal sealed class LinqFilterTranslator : FilterTranslatorBase
{
    /// <summary>Translates <paramref name="filter"/>; the result is a filter, or a constant when the filter folds to one.</summary>
    public TranslatedFilter Translate(LambdaExpression filter, CollectionModel model)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ExpressionDepthGuard.Check(filter.Body, nameof(filter));
        var body = PreprocessFilter(filter, model, new FilterPreprocessingOptions { SupportsParameterization = false });
        return Visit(body);
    }

    private TranslatedFilter Visit(Expression node) => node switch
    {
        BinaryExpression { NodeType: ExpressionType.AndAlso or ExpressionType.And } both when both.Type == typeof(bool) =>
            TranslatedFilter.And(Visit(both.Left), Visit(both.Right)),
        BinaryExpression { NodeType: ExpressionType.OrElse or ExpressionType.Or } either when either.Type == typeof(bool) =>
            TranslatedFilter.Or(Visit(either.Left), Visit(either.Right)),
        UnaryExpression { NodeType: ExpressionType.Not } negation when negation.Type == typeof(bool) => Visit(negation.Operand).Negate(),
        BinaryExpression { NodeType: ExpressionType.Equal } equal => Equality(equal, negate: false),
        BinaryExpression { NodeType: ExpressionType.NotEqual } notEqual => Equality(notEqual, negate: true),
        BinaryExpression { NodeType: ExpressionType.LessThan or ExpressionType.LessThanOrEqual or ExpressionType.GreaterThan or ExpressionType.GreaterThanOrEqual } comparison =>
            Comparison(comparison),
        MethodCallExpression call => Call(call),
        ConstantExpression { Value: bool constant } => TranslatedFilter.Constant(constant),
        _ when node.Type == typeof(bool) && TryBindField(node, out var field, out _) => TranslatedFilter.Of(Filter.Eq(field, true)),
        _ => throw Unsupported(node, "only comparisons of a data property with a value, &&, ||, ! and Contains are translated"),
    };

    private TranslatedFilter Equality(BinaryExpression node, bool negate)
    {
        if (!TryFieldAndValue(node, out var field, out var value, out _))
        {
            throw Unsupported(node, "an equality compares one data property with a value");
        }

        // A comparison with null tests for a missing or null field, as C# compares the property with null; an array compares
        // element by element, as the payload holds it.
        var equals = TranslatedFilter.Of(value switch
        {
            null => Filter.IsNull(field),
            IEnumerable values and not string => Filter.ArrayEq(field, values.Cast<object?>().Select(v => v is null
                ? throw Unsupported(node, "the array holds null")
                : ToFilterValue(v, node))),
            _ => Filter.Eq(field, ToFilterValue(value, node)),
        });
        return negate ? equals.Negate() : equals;
    }

    private TranslatedFilter Comparison(BinaryExpression node)
    {
        if (!TryFieldAndValue(node, out var field, out var value, out var fieldOnLeft) || value is null)
        {
            throw Unsupported(node, "a comparison compares one data property with a value");
        }

        var op = fieldOnLeft ? node.NodeType : Mirror(node.NodeType);
        var bound = ToFilterValue(value, node);
        if (bound.Kind == FilterValueKind.Time)
        {
            var time = bound.Time;
            return TranslatedFilter.Of(op switch
            {
                ExpressionType.LessThan => Filter.DateRange(field, lt: time),
                ExpressionType.LessThanOrEqual => Filter.DateRange(field, lte: time),
                ExpressionType.GreaterThan => Filter.DateRange(field, gt: time),
                _ => Filter.DateRange(field, gte: time),
            });
        }

        if (!bound.IsNumeric)
        {
            throw Unsupported(node, "ranges compare numbers or dates");
        }

        var number = bound.Number;
        return TranslatedFilter.Of(op switch
        {
            ExpressionType.LessThan => Filter.Range(field, lt: number),
            ExpressionType.LessThanOrEqual => Filter.Range(field, lte: number),
            ExpressionType.GreaterThan => Filter.Range(field, gt: number),
            _ => Filter.Range(field, gte: number),
        });
    }

    private TranslatedFilter Call(MethodCallExpression call)
    {
        if (call.Method is { Name: nameof(Enumerable.Any), IsStatic: true } && call.Method.DeclaringType == typeof(Enumerable))
        {
            return Any(call);
        }

        if (!TryMatchContains(call, out var source, out var item))
        {
            throw Unsupported(call, "the only methods translated are Contains, and Any over an array or list property with a Contains on a captured list");
        }

        // A span conversion wraps arrays when Contains binds to MemoryExtensions; the array is what holds the values.
        while (source is MethodCallExpression { Method.Name: "op_Implicit", Arguments: [var converted] })
        {
            source = converted;
        }

        // tags.Contains(r.Category): the field is one of the captured values.
        if (TryBindField(item, out var field, out _) && TryEvaluate(source, out var evaluated) && evaluated is IEnumerable values and not string)
        {
            var all = values.Cast<object?>().ToArray();
            var list = all.OfType<object>().Select(v => ToFilterValue(v, call)).ToArray();
            var anyOf = list.Length == 0 ? TranslatedFilter.Constant(false) : TranslatedFilter.Of(Filter.In(field, list));
            return all.Length == list.Length ? anyOf : TranslatedFilter.Or(anyOf, TranslatedFilter.Of(Filter.IsNull(field)));
        }

        // r.Tags.Contains("x"): the array field holds the value.
        if (TryBindField(source, out var arrayField, out var property) && AdaptiveModelBuilder.ElementType(property.Type) is not null &&
            TryEvaluate(item, out var value) && value is not null)
        {
            return TranslatedFilter.Of(Filter.Contains(arrayField, ToFilterValue(value, call)));
        }

        throw Unsupported(call, "Contains needs a captured array or list and a data property, or an array or list data property and a value");
    }

    // r.Tags.Any(t => wanted.Contains(t)): the array field holds one of the captured values.
    private TranslatedFilter Any(MethodCallExpression call)
    {
        if (call.Arguments is [var source, LambdaExpression { Parameters: [var element], Body: MethodCallExpression contains }] &&
            TryBindField(source, out var field, out var property) && AdaptiveModelBuilder.ElementType(property.Type) is not null &&
            TryMatchContains(contains, out var wanted, out var item) && Unwrap(item) == element)
        {
            while (wanted is MethodCallExpression { Method.Name: "op_Implicit", Arguments: [var converted] })
            {
                wanted = converted;
            }

            if (TryEvaluate(wanted, out var evaluated) && evaluated is IEnumerable values and not string)
            {
                var conditions = values.Cast<object?>().Select(v => v is null
                    ? throw Unsupported(call, "the list holds null, and array elements are never null in the payload")
                    : TranslatedFilter.Of(Filter.Contains(field, ToFilterValue(v, call))));
                return conditions.Aggregate(TranslatedFilter.Constant(false), TranslatedFilter.Or);
            }
        }

        throw Unsupported(call, "Any is translated over an array or list property with a predicate e => list.Contains(e) on a captured list");
    }

    private bool TryFieldAndValue(BinaryExpression node, out string field, out object? value, out bool fieldOnLeft)
    {
        if (TryBindField(node.Left, out field, out _) && TryEvaluate(node.Right, out value))
        {
            fieldOnLeft = true;
            return true;
        }

        if (TryBindField(node.Right, out field, out _) && TryEvaluate(node.Left, out value))
        {
            fieldOnLeft = false;
            return true;
        }

        value = null;
        fieldOnLeft = false;
        return false;
    }

    private bool TryBindField(Expression expression, out string field, out PropertyModel property)
    {
        if (TryBindProperty(Unwrap(expression), out var bound))
        {
            property = bound!;
            field = property is DataPropertyModel
                ? property.StorageName
                : throw Unsupported(expression, $"'{property.ModelName}' is the {(property is KeyPropertyModel ? "key" : "vector")} property; filters apply to data properties");
            return true;
        }

        field = "";
        property = null!;
        return false;
    }

    /// <summary>
    /// The value of an expression that does not read the record: a constant, a captured variable, or a computation on them
    /// such as <c>since.AddDays(7)</c>, which is evaluated once here.
    /// </summary>
    private bool TryEvaluate(Expression expression, out object? value)
    {
        expression = Unwrap(expression);
        if (expression is ConstantExpression constant)
        {
            value = constant.Value;
            return true;
        }

        if (ReadsRecord(expression))
        {
            value = null;
            return false;
        }

        value = Expression.Lambda<Func<object?>>(Expression.Convert(expression, typeof(object))).Compile(preferInterpretation: true)();
        return true;
    }

    private bool ReadsRecord(Expression expression)
    {
        var finder = new ParameterFinder(RecordParameter);
        finder.Visit(expression);
        return finder.Found;
    }

    // Nullable and enum comparisons arrive wrapped in conversions; the stored JSON value is the underlying one.
    private static Expression Unwrap(Expression expression)
    {
        while (expression is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } convert)
        {
            expression = convert.Operand;
        }

        return expression;
    }

    private static ExpressionType Mirror(ExpressionType type) => type switch
    {
        ExpressionType.LessThan => ExpressionType.GreaterThan,
        ExpressionType.LessThanOrEqual => ExpressionType.GreaterThanOrEqual,
        ExpressionType.GreaterThan => ExpressionType.LessThan,
        _ => ExpressionType.LessThanOrEqual,
    };

    /// <summary>A filter value that compares with the value as <see cref="RecordMapper{TRecord}"/> writes it into the payload.</summary>
    private static FilterValue ToFilterValue(object value, Expression node) => value switch
    {
        string s => s,
        bool b => b,
        int or long or short or byte or sbyte or uint or ushort => System.Convert.ToInt64(value, CultureInfo.InvariantCulture),
        Enum e => System.Convert.ToInt64(e, CultureInfo.InvariantCulture),
        // A float widened to double gains digits the JSON payload (shortest round-trip form) does not have.
        float f => double.Parse(f.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
        double d => d,
        decimal m => (double)m,
        DateTimeOffset t => t,
        DateTime t => new DateTimeOffset(t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : t.ToUniversalTime()),
        DateOnly d => d.ToString("O", CultureInfo.InvariantCulture),
        // As System.Text.Json writes it into the payload.
        TimeOnly t => t.ToString(t.Ticks % TimeSpan.TicksPerSecond == 0 ? "HH':'mm':'ss" : "HH':'mm':'ss'.'FFFFFFF", CultureInfo.InvariantCulture),
        Guid g => g.ToString("D", CultureInfo.InvariantCulture),
        _ => throw Unsupported(node, $"values of type {value.GetType().Name} are not supported in filters"),
    };

    private static NotSupportedException Unsupported(Expression node, string why) =>
        new($"The filter expression '{node}' is not supported: {why}.");
}

/// <summary>Finds whether an expression reads the record parameter.</summary>
internal sealed class ParameterFinder(ParameterExpression? parameter) : ExpressionVisitor
{
    public bool Found { get; private set; }

    protected override Expression VisitParameter(ParameterExpression node)
    {
        Found |= node == parameter;
        return node;
    }
}

/// <summary>A translated filter: a core <see cref="Filter"/>, or a constant when the expression folds to true or false.</summary>
internal readonly record struct TranslatedFilter(Filter? Filter, bool? Value)
{
    public bool MatchesNothing => Value == false;

    public static TranslatedFilter Of(Filter filter) => new(filter, null);

    public static TranslatedFilter Constant(bool value) => new(null, value);

    public static TranslatedFilter And(TranslatedFilter left, TranslatedFilter right) => (left.Value, right.Value) switch
    {
        (false, _) or (_, false) => Constant(false),
        (true, _) => right,
        (_, true) => left,
        _ => Of(Adapters.Filter.And(left.Filter!, right.Filter!)),
    };

    public static TranslatedFilter Or(TranslatedFilter left, TranslatedFilter right) => (left.Value, right.Value) switch
    {
        (true, _) or (_, true) => Constant(true),
        (false, _) => right,
        (_, false) => left,
        _ => Of(Adapters.Filter.Or(left.Filter!, right.Filter!)),
    };

    public TranslatedFilter Negate() => Value is { } value ? Constant(!value) : Of(Adapters.Filter.Not(Filter!));
}
