using System.Text;
using System.Text.Json;
using Mrl.Adapters.Filtering;
using Npgsql;
using NpgsqlTypes;

namespace Mrl.Adapters.Pgvector;

/// <summary>
/// Renders the core filter model as a parameterized SQL predicate, over a jsonb payload column or over plain columns.
/// Every leaf is wrapped so that it is never NULL: a missing field does not match, and so matches under NOT.
/// Dates are bound in UTC: Npgsql writes a <c>timestamptz</c> only from a <see cref="DateTimeOffset"/> with offset zero.
/// </summary>
internal sealed class PgvectorFilterRenderer(string? payloadColumn, IReadOnlyCollection<string> payloadColumns, bool payloadIsJson = false)
{
    public string Render(Filter filter, List<NpgsqlParameter> parameters)
    {
        PgvectorValueRules.CheckFilter(Filter.CheckDepth(filter, nameof(filter)));
        var sql = new StringBuilder();
        Append(filter, sql, parameters);
        return sql.ToString();
    }

    /// <summary>
    /// The sort keys of an ORDER BY, each followed by a comma: jsonb values order as <see cref="PayloadOrder"/> does, and a
    /// missing or null value comes first ascending and last descending.
    /// </summary>
    public string RenderOrderBy(IReadOnlyList<SortField> orderBy, List<NpgsqlParameter> parameters)
    {
        var sql = new StringBuilder();
        foreach (var sort in orderBy)
        {
            PgvectorValueRules.CheckFilter(Filter.IsNull(sort.Field));
            string value;
            if (payloadColumn is null)
            {
                if (!payloadColumns.Contains(sort.Field))
                {
                    throw new ArgumentException(
                        $"Cannot order by '{sort.Field}': it is not one of the payload columns ({string.Join(", ", payloadColumns)}).", nameof(orderBy));
                }

                value = SqlIdentifier.Quote(sort.Field, "payload column");
            }
            else
            {
                var element = $"({SqlIdentifier.Quote(payloadColumn, "payload column")} -> {Add(parameters, sort.Field, NpgsqlDbType.Text)})";
                value = $"(CASE WHEN pg_catalog.jsonb_typeof({element}) <> 'null' THEN {element} END)";
            }

            sql.Append(value).Append(sort.Descending ? " DESC NULLS LAST, " : " ASC NULLS FIRST, ");
        }

        return sql.ToString();
    }

    private void Append(Filter filter, StringBuilder sql, List<NpgsqlParameter> parameters)
    {
        switch (filter)
        {
            case AndFilter and:
                Join(and.Operands, " AND ", sql, parameters);
                break;
            case OrFilter or:
                Join(or.Operands, " OR ", sql, parameters);
                break;
            case NotFilter not:
                sql.Append("NOT (");
                Append(not.Operand, sql, parameters);
                sql.Append(')');
                break;
            case FieldFilter field:
                sql.Append("COALESCE(");
                sql.Append(payloadColumn is null ? RenderColumnLeaf(field, parameters) : RenderJsonLeaf(field, parameters));
                sql.Append(", false)");
                break;
            default:
                throw new NotSupportedException($"Unknown filter type {filter.GetType().Name}.");
        }
    }

    private void Join(IReadOnlyList<Filter> operands, string separator, StringBuilder sql, List<NpgsqlParameter> parameters)
    {
        sql.Append('(');
        for (var i = 0; i < operands.Count; i++)
        {
            if (i > 0)
            {
                sql.Append(separator);
            }

            Append(operands[i], sql, parameters);
        }

        sql.Append(')');
    }

    private string RenderJsonLeaf(FieldFilter filter, List<NpgsqlParameter> parameters)
    {
        // A json (not jsonb) column is read as jsonb: its operators and comparisons are jsonb's.
        var payload = payloadIsJson ? $"({SqlIdentifier.Quote(payloadColumn!, "payload column")}::pg_catalog.jsonb)" : SqlIdentifier.Quote(payloadColumn!, "payload column");
        var fieldName = Add(parameters, filter.Field, NpgsqlDbType.Text);
        var element = $"({payload} -> {fieldName})";
        switch (filter)
        {
            case ArrayEqualsFilter array:
                return $"({element} = {Add(parameters, "[" + string.Join(",", array.Values.Select(ToJson)) + "]", NpgsqlDbType.Jsonb)})";
            case NullFilter:
                return $"({element} IS NULL OR pg_catalog.jsonb_typeof({element}) = 'null')";
            case EqualsFilter { Value.Kind: FilterValueKind.Time } eq:
                return $"({TimeOf(element)} = {Add(parameters, eq.Value.Time.ToUniversalTime(), NpgsqlDbType.TimestampTz)})";
            case EqualsFilter eq:
                // jsonb equality compares numbers by value and never a string with a number.
                return $"({element} = {Add(parameters, ToJson(eq.Value), NpgsqlDbType.Jsonb)})";
            case InFilter { Values: [{ Kind: FilterValueKind.Time }, ..] } inTimes:
                return $"({TimeOf(element)} = ANY({Add(parameters, inTimes.Values.Select(v => v.Time.ToUniversalTime()).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)}))";
            case InFilter inList:
                return $"({element} = ANY({Add(parameters, inList.Values.Select(ToJson).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Jsonb)}))";
            case ContainsFilter { Value.Kind: FilterValueKind.Time } contains:
                return $"(EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof({element}) = 'array' THEN {element} END) AS e(v) WHERE {TimeOf("e.v")} = {Add(parameters, contains.Value.Time.ToUniversalTime(), NpgsqlDbType.TimestampTz)}))";
            case ContainsFilter contains:
                // Containment of a one-element array: true only when the field is an array holding the value.
                return $"({element} @> {Add(parameters, "[" + ToJson(contains.Value) + "]", NpgsqlDbType.Jsonb)})";
            case RangeFilter range:
                var operand = range.IsDateRange ? TimeOf(element) : $"(CASE WHEN pg_catalog.jsonb_typeof({element}) = 'number' THEN ({element})::float8 END)";
                return RenderBounds(operand, range, parameters);
            default:
                throw new NotSupportedException($"Unknown filter type {filter.GetType().Name}.");
        }
    }

    private string RenderColumnLeaf(FieldFilter filter, List<NpgsqlParameter> parameters)
    {
        if (!payloadColumns.Contains(filter.Field))
        {
            throw new ArgumentException(
                $"Cannot filter on '{filter.Field}': it is not one of the payload columns ({string.Join(", ", payloadColumns)}).", nameof(filter));
        }

        var column = SqlIdentifier.Quote(filter.Field, "payload column");
        return filter switch
        {
            NullFilter => $"({column} IS NULL)",
            ArrayEqualsFilter array => $"(pg_catalog.to_jsonb({column}) = {Add(parameters, "[" + string.Join(",", array.Values.Select(ToJson)) + "]", NpgsqlDbType.Jsonb)})",
            EqualsFilter eq => $"({Typed(column, eq.Value.Kind)} = {AddScalar(parameters, eq.Value)})",
            InFilter inList => $"({Typed(column, inList.Values[0].Kind)} = ANY({AddArray(parameters, inList.Values)}))",
            ContainsFilter contains => $"(pg_catalog.to_jsonb({column}) @> {Add(parameters, "[" + ToJson(contains.Value) + "]", NpgsqlDbType.Jsonb)})",
            RangeFilter range => RenderBounds(range.IsDateRange ? $"({column})::timestamptz" : $"({column})::float8", range, parameters),
            _ => throw new NotSupportedException($"Unknown filter type {filter.GetType().Name}."),
        };
    }

    private static string RenderBounds(string operand, RangeFilter range, List<NpgsqlParameter> parameters)
    {
        var parts = range.Bounds().Select(b => $"{operand} {b.Operator} {AddScalar(parameters, b.Value)}");
        return "(" + string.Join(" AND ", parts) + ")";
    }

    // A payload date is an ISO 8601 string; anything that does not look like one is NULL rather than a cast error. The path
    // is typed: against an untyped literal, an operator #>>(jsonb, jsonb) in any schema on the search_path would be chosen.
    private static string TimeOf(string element) =>
        $"(CASE WHEN pg_catalog.jsonb_typeof({element}) = 'string' AND ({element} #>> '{{}}'::text[]) ~ '^\\d{{4}}-\\d{{2}}-\\d{{2}}' THEN ({element} #>> '{{}}'::text[])::timestamptz END)";

    private static string Typed(string column, FilterValueKind kind) => kind switch
    {
        FilterValueKind.Text => $"({column})::text",
        FilterValueKind.Boolean => $"({column})::boolean",
        FilterValueKind.Time => $"({column})::timestamptz",
        _ => $"({column})::float8",
    };

    private static string AddScalar(List<NpgsqlParameter> parameters, FilterValue value) => value.Kind switch
    {
        FilterValueKind.Text => Add(parameters, value.Text!, NpgsqlDbType.Text),
        FilterValueKind.Boolean => Add(parameters, value.Boolean, NpgsqlDbType.Boolean),
        FilterValueKind.Time => Add(parameters, value.Time.ToUniversalTime(), NpgsqlDbType.TimestampTz),
        _ => Add(parameters, value.Number, NpgsqlDbType.Double),
    };

    private static string AddArray(List<NpgsqlParameter> parameters, IReadOnlyList<FilterValue> values) => values[0].Kind switch
    {
        FilterValueKind.Text => Add(parameters, values.Select(v => v.Text ?? "").ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text),
        FilterValueKind.Boolean => Add(parameters, values.Select(v => v.Boolean).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Boolean),
        FilterValueKind.Time => Add(parameters, values.Select(v => v.Time.ToUniversalTime()).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz),
        _ => Add(parameters, values.Select(v => v.Number).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Double),
    };

    private static string ToJson(FilterValue value) => value.Kind switch
    {
        FilterValueKind.Text => JsonSerializer.Serialize(value.Text),
        FilterValueKind.Boolean => value.Boolean ? "true" : "false",
        FilterValueKind.WholeNumber => JsonSerializer.Serialize(value.WholeNumber),
        FilterValueKind.Number => JsonSerializer.Serialize(value.Number),
        _ => JsonSerializer.Serialize(value.Time),
    };

    private static string Add<T>(List<NpgsqlParameter> parameters, T value, NpgsqlDbType type)
    {
        parameters.Add(new NpgsqlParameter<T> { TypedValue = value, NpgsqlDbType = type });
        return "$" + parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
