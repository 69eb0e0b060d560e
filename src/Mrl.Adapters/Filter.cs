using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Mrl.Adapters.Filtering;

namespace Mrl.Adapters;

/// <summary>
/// A condition on payload fields that every store understands: equality, membership, array elements, numeric and
/// date ranges, combined with and/or/not. Fields are top-level payload properties; a record without the field does not match
/// a condition on it (and so does match its negation).
/// </summary>
public abstract record Filter
{
    /// <summary>
    /// The deepest nesting of <see cref="And(Filter[])"/>, <see cref="Or(Filter[])"/> and <see cref="Not(Filter)"/> a filter may
    /// have; a condition on a field is depth 1. An And inside an And (or an Or inside an Or) is merged into it when it is built,
    /// so folding any number of conditions with <c>&amp;</c> or <c>|</c> stays at depth 2; only alternations count. The limit
    /// keeps every store's evaluation and translation, which recurse, far from the end of the stack.
    /// </summary>
    public const int MaxDepth = 64;

    // The depth of each combination measured so far, by identity: a copy made by 'with' may have other operands and is
    // measured anew, and record equality stays what the positional members say.
    private static readonly ConditionalWeakTable<Filter, StrongBox<int>> Depths = new();

    private protected Filter()
    {
    }

    /// <summary>The field equals <paramref name="value"/>.</summary>
    public static Filter Eq(string field, FilterValue value) => new EqualsFilter(CheckField(field), value);

    /// <summary>The field equals one of <paramref name="values"/>.</summary>
    /// <exception cref="ArgumentException">The list is empty, or mixes kinds of values (whole and fractional numbers may mix).</exception>
    public static Filter In(string field, IEnumerable<FilterValue> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var list = values.ToArray();
        if (list.Length == 0)
        {
            throw new ArgumentException($"The in-list for field '{field}' is empty; it would match nothing.", nameof(values));
        }

        if (list.Select(v => v.IsNumeric ? FilterValueKind.Number : v.Kind).Distinct().Skip(1).Any())
        {
            throw new ArgumentException(
                $"The in-list for field '{field}' mixes kinds ({string.Join(", ", list.Select(v => v.Kind).Distinct())}); use values of one kind.", nameof(values));
        }

        return new InFilter(CheckField(field), list);
    }

    /// <summary>
    /// The field is missing or null. <c>!Filter.IsNull(field)</c> matches a record whose field holds a value, which is
    /// how a comparison with null reads in C# (<c>r.Name != null</c>).
    /// </summary>
    public static Filter IsNull(string field) => new NullFilter(CheckField(field));

    /// <summary>The field is an array holding exactly <paramref name="values"/>, in this order.</summary>
    /// <exception cref="ArgumentException">The values mix kinds (whole and fractional numbers may mix).</exception>
    public static Filter ArrayEq(string field, IEnumerable<FilterValue> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var list = values.ToArray();
        if (list.Select(v => v.IsNumeric ? FilterValueKind.Number : v.Kind).Distinct().Skip(1).Any())
        {
            throw new ArgumentException($"The array for field '{field}' mixes kinds; use values of one kind.", nameof(values));
        }

        return new ArrayEqualsFilter(CheckField(field), list);
    }

    /// <summary>The field is an array, and one of its elements equals <paramref name="value"/> (a tag match).</summary>
    public static Filter Contains(string field, FilterValue value) => new ContainsFilter(CheckField(field), value);

    /// <summary>The field is a number within the given bounds (each optional).</summary>
    /// <exception cref="ArgumentException">No bound is given, or a bound is not numeric.</exception>
    public static Filter Range(string field, double? gt = null, double? gte = null, double? lt = null, double? lte = null) =>
        CreateRange(field, ToValue(gt), ToValue(gte), ToValue(lt), ToValue(lte));

    /// <summary>The field is a date (ISO 8601 in the payload) within the given bounds (each optional).</summary>
    /// <exception cref="ArgumentException">No bound is given.</exception>
    public static Filter DateRange(string field, DateTimeOffset? gt = null, DateTimeOffset? gte = null, DateTimeOffset? lt = null, DateTimeOffset? lte = null) =>
        CreateRange(field, ToValue(gt), ToValue(gte), ToValue(lt), ToValue(lte));

    /// <summary>Every filter matches. Operands that are themselves <see cref="AndFilter"/>s are merged into this one.</summary>
    /// <exception cref="ArgumentException">No filter is given, or the result is nested deeper than <see cref="MaxDepth"/>.</exception>
    public static Filter And(params Filter[] filters)
    {
        var operands = CheckOperands(filters);
        return Combined(new AndFilter(Flatten<AndFilter>(operands, static a => a.Operands)), operands, nameof(filters));
    }

    /// <summary>At least one filter matches. Operands that are themselves <see cref="OrFilter"/>s are merged into this one.</summary>
    /// <exception cref="ArgumentException">No filter is given, or the result is nested deeper than <see cref="MaxDepth"/>.</exception>
    public static Filter Or(params Filter[] filters)
    {
        var operands = CheckOperands(filters);
        return Combined(new OrFilter(Flatten<OrFilter>(operands, static o => o.Operands)), operands, nameof(filters));
    }

    /// <summary>The filter does not match.</summary>
    /// <exception cref="ArgumentException">The result is nested deeper than <see cref="MaxDepth"/>.</exception>
    public static Filter Not(Filter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return CheckDepth(new NotFilter(filter), nameof(filter));
    }

    /// <summary>Both filters match.</summary>
    public static Filter operator &(Filter left, Filter right) => And(left, right);

    /// <summary>Either filter matches.</summary>
    public static Filter operator |(Filter left, Filter right) => Or(left, right);

    /// <summary>The filter does not match.</summary>
    public static Filter operator !(Filter filter) => Not(filter);

    /// <summary>Same as <see cref="And(Filter[])"/>.</summary>
    public static Filter BitwiseAnd(Filter left, Filter right) => And(left, right);

    /// <summary>Same as <see cref="Or(Filter[])"/>.</summary>
    public static Filter BitwiseOr(Filter left, Filter right) => Or(left, right);

    /// <summary>Same as <see cref="Not(Filter)"/>.</summary>
    public static Filter LogicalNot(Filter filter) => Not(filter);

    /// <summary>Every payload field the filter reads, each once.</summary>
    /// <exception cref="ArgumentException">The filter, built without the factory methods, is nested deeper than <see cref="MaxDepth"/>.</exception>
    public IReadOnlyCollection<string> Fields()
    {
        CheckDepth(this, "filter");
        var fields = new HashSet<string>(StringComparer.Ordinal);
        Collect(this, fields);
        return fields;

        static void Collect(Filter filter, HashSet<string> fields)
        {
            switch (filter)
            {
                case FieldFilter f:
                    fields.Add(f.Field);
                    break;
                case AndFilter a:
                    foreach (var o in a.Operands)
                    {
                        Collect(o, fields);
                    }

                    break;
                case OrFilter o:
                    foreach (var x in o.Operands)
                    {
                        Collect(x, fields);
                    }

                    break;
                case NotFilter n:
                    Collect(n.Operand, fields);
                    break;
            }
        }
    }

    /// <summary>
    /// How deeply <paramref name="filter"/> nests, measured without recursion (a filter built with the record constructors
    /// rather than the factory methods was never checked, and may be nested deeper than the stack allows) and remembered.
    /// </summary>
    /// <exception cref="ArgumentException">The filter is nested deeper than <see cref="MaxDepth"/>, or contains itself.</exception>
    /// <param name="filter">The filter to check; returned as it is.</param>
    /// <param name="parameterName">The argument named in the exception.</param>
    /// <remarks>Stores call it before translating a filter recursively.</remarks>
    public static T CheckDepth<T>(T filter, string parameterName)
        where T : Filter
    {
        if (KnownDepth(filter) > 0)
        {
            return filter;
        }

        // Post-order over an explicit stack. A depth is remembered only once it is known to fit under the limit at its place
        // in the tree, and a path longer than the limit stops the walk, which also ends a cycle (a filter added to the list
        // it was built from).
        var stack = new Stack<(Filter Filter, int Level)>();
        stack.Push((filter, 1));
        while (stack.Count > 0)
        {
            var (current, level) = stack.Peek();
            if (level > MaxDepth)
            {
                throw TooDeep(parameterName);
            }

            var deepest = 0;
            var pending = false;
            foreach (var operand in OperandsOf(current))
            {
                ArgumentNullException.ThrowIfNull(operand, parameterName);
                var depth = KnownDepth(operand);
                if (depth == 0)
                {
                    stack.Push((operand, level + 1));
                    pending = true;
                }

                deepest = Math.Max(deepest, depth);
            }

            if (pending)
            {
                continue;
            }

            stack.Pop();
            if (level + deepest > MaxDepth)
            {
                throw TooDeep(parameterName);
            }

            Depths.AddOrUpdate(current, new StrongBox<int>(deepest + 1));
        }

        return filter;
    }

    private static int KnownDepth(Filter filter) =>
        filter is FieldFilter ? 1 : Depths.TryGetValue(filter, out var depth) ? depth.Value : 0;

    private static ArgumentException TooDeep(string parameterName) => new(
        string.Create(CultureInfo.InvariantCulture, $"The filter is nested more than {MaxDepth} levels deep (And, Or and Not inside one another); build long conjunctions and disjunctions flat, e.g. Filter.And(a, b, c) or a & b & c, or use Filter.In for a list of values."),
        parameterName);

    private static IReadOnlyList<Filter> OperandsOf(Filter filter) => filter switch
    {
        AndFilter a => a.Operands ?? [],
        OrFilter o => o.Operands ?? [],
        NotFilter n => [n.Operand],
        _ => [],
    };

    private static OperandList Flatten<T>(Filter[] operands, Func<T, IReadOnlyList<Filter>> inner)
        where T : Filter
    {
        // The usual case is a fold, (((a & b) & c) & d): the combination so far comes first and grows in place.
        var head = operands[0] is T first ? inner(first) : [];
        var skip = operands[0] is T ? 1 : 0;
        var rest = operands.AsSpan(skip);
        var merges = false;
        foreach (var operand in rest)
        {
            merges |= operand is T;
        }

        if (!merges)
        {
            return OperandList.Create(head, rest);
        }

        var flat = new List<Filter>();
        foreach (var operand in rest)
        {
            if (operand is T same)
            {
                flat.AddRange(inner(same));
            }
            else
            {
                flat.Add(operand);
            }
        }

        return OperandList.Create(head, CollectionsMarshal.AsSpan(flat));
    }

    /// <summary>
    /// The depth of a combination made by <see cref="And(Filter[])"/> or <see cref="Or(Filter[])"/> from operands whose
    /// depths are known, without looking at the operands merged into it: that would make a fold of n conditions O(n²).
    /// </summary>
    private static T Combined<T>(T combination, Filter[] operands, string parameterName)
        where T : Filter
    {
        var deepest = 0;
        foreach (var operand in operands)
        {
            var depth = KnownDepth(operand);
            if (depth == 0)
            {
                return CheckDepth(combination, parameterName);
            }

            // A merged combination gives its operands, which are one level shallower than itself.
            deepest = Math.Max(deepest, operand is T ? depth - 1 : depth);
        }

        if (deepest + 1 > MaxDepth)
        {
            throw TooDeep(parameterName);
        }

        Depths.AddOrUpdate(combination, new StrongBox<int>(deepest + 1));
        return combination;
    }

    private static RangeFilter CreateRange(string field, FilterValue? gt, FilterValue? gte, FilterValue? lt, FilterValue? lte)
    {
        CheckField(field);
        if (gt is null && gte is null && lt is null && lte is null)
        {
            throw new ArgumentException($"The range on field '{field}' has no bound.", nameof(field));
        }

        return new RangeFilter(field, gt, gte, lt, lte);
    }

    private static FilterValue? ToValue(double? value) => value is { } v ? FilterValue.FromDouble(v) : (FilterValue?)null;

    private static FilterValue? ToValue(DateTimeOffset? value) => value is { } v ? FilterValue.FromDateTimeOffset(v) : (FilterValue?)null;

    private static string CheckField(string field)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(field);
        if (field.Length > 1024)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"A payload field name may be at most 1024 characters, got {field.Length}."),
                nameof(field));
        }

        if (field.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A payload field name may not contain a NUL character.", nameof(field));
        }

        if (UnicodeText.IndexOfLoneSurrogate(field) is var lone and >= 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"A payload field name must be valid Unicode; it has a lone surrogate at index {lone}."), nameof(field));
        }

        return field;
    }

    private static Filter[] CheckOperands(Filter[] filters)
    {
        ArgumentNullException.ThrowIfNull(filters);
        if (filters.Length == 0)
        {
            throw new ArgumentException("A combination of filters needs at least one filter.", nameof(filters));
        }

        foreach (var f in filters)
        {
            ArgumentNullException.ThrowIfNull(f, nameof(filters));
        }

        return (Filter[])filters.Clone();
    }
}

/// <summary>A condition on one payload field.</summary>
public abstract record FieldFilter(string Field) : Filter;

/// <summary>The field equals the value.</summary>
public sealed record EqualsFilter(string Field, FilterValue Value) : FieldFilter(Field);

/// <summary>The field equals one of the values.</summary>
public sealed record InFilter(string Field, IReadOnlyList<FilterValue> Values) : FieldFilter(Field);

/// <summary>The field is an array equal, element by element, to the values.</summary>
public sealed record ArrayEqualsFilter(string Field, IReadOnlyList<FilterValue> Values) : FieldFilter(Field);

/// <summary>The field is missing or null.</summary>
public sealed record NullFilter(string Field) : FieldFilter(Field);

/// <summary>The field is an array with an element equal to the value.</summary>
public sealed record ContainsFilter(string Field, FilterValue Value) : FieldFilter(Field);

/// <summary>The field lies within the bounds that are set (numbers or dates).</summary>
public sealed record RangeFilter(string Field, FilterValue? Gt, FilterValue? Gte, FilterValue? Lt, FilterValue? Lte) : FieldFilter(Field)
{
    /// <summary>The bounds that are set, with their operator: <c>&gt;</c>, <c>&gt;=</c>, <c>&lt;</c>, <c>&lt;=</c>.</summary>
    public IEnumerable<(string Operator, FilterValue Value)> Bounds()
    {
        if (Gt is { } gt)
        {
            yield return (">", gt);
        }

        if (Gte is { } gte)
        {
            yield return (">=", gte);
        }

        if (Lt is { } lt)
        {
            yield return ("<", lt);
        }

        if (Lte is { } lte)
        {
            yield return ("<=", lte);
        }
    }

    /// <summary>Whether the bounds are dates rather than numbers.</summary>
    public bool IsDateRange => Bounds().Any(b => b.Value.Kind == FilterValueKind.Time);
}

/// <summary>All operands match.</summary>
public sealed record AndFilter(IReadOnlyList<Filter> Operands) : Filter;

/// <summary>At least one operand matches.</summary>
public sealed record OrFilter(IReadOnlyList<Filter> Operands) : Filter;

/// <summary>The operand does not match.</summary>
public sealed record NotFilter(Filter Operand) : Filter;
