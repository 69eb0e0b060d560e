using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NJsonSchema;

namespace Mrl.Adapters.Qdrant.Tests.Support;

/// <summary>
/// One of Qdrant's OpenAPI 3.0 documents, turned into JSON Schema that NJsonSchema validates:
/// <list type="bullet">
/// <item><c>#/components/schemas/X</c> references become <c>#/definitions/X</c>;</item>
/// <item>OpenAPI's <c>nullable: true</c> becomes a <c>null</c> type (a bare <c>{"nullable": true}</c> in an <c>anyOf</c>
/// would otherwise accept anything, and a wrong body would pass);</item>
/// <item>every object schema that lists its properties and says nothing about others is closed
/// (<c>additionalProperties: false</c>), so a misspelled property fails. The server ignores unknown properties; this
/// check is stricter on purpose.</item>
/// </list>
/// Each operation's request and 200-response body schemas are added as definitions named
/// <c>request PUT /collections/{collection_name}</c> and <c>response PUT /collections/{collection_name}</c>.
/// </summary>
internal sealed class OpenApiSpec
{
    private readonly JsonSchema _schema;
    private readonly List<Operation> _operations;

    private OpenApiSpec(string version, JsonSchema schema, List<Operation> operations)
    {
        Version = version;
        _schema = schema;
        _operations = operations;
    }

    /// <summary>The document's <c>info.version</c>, e.g. <c>v1.19.x</c>.</summary>
    public string Version { get; }

    public static OpenApiSpec Load(string path)
    {
        var document = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var definitions = new JsonObject();
        foreach (var (name, component) in document["components"]!["schemas"]!.AsObject())
        {
            definitions[name] = Convert(component!);
        }

        var operations = new List<Operation>();
        foreach (var (template, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, op) in item!.AsObject())
            {
                var key = $"{method.ToUpperInvariant()} {template}";
                var request = op!["requestBody"]?["content"]?["application/json"]?["schema"];
                if (request is not null)
                {
                    definitions["request " + key] = Convert(request);
                }

                var response = op["responses"]?["200"]?["content"]?["application/json"]?["schema"];
                if (response is not null)
                {
                    definitions["response " + key] = Convert(response);
                }

                var query = (op["parameters"]?.AsArray() ?? [])
                    .Where(p => (string?)p!["in"] == "query")
                    .Select(p => (string)p!["name"]!)
                    .ToHashSet(StringComparer.Ordinal);
                operations.Add(new Operation(method.ToUpperInvariant(), template, TemplateRegex(template), query, request is not null, response is not null));
            }
        }

        var root = new JsonObject { ["definitions"] = definitions };
        var schema = JsonSchema.FromJsonAsync(root.ToJsonString()).GetAwaiter().GetResult();
        return new OpenApiSpec((string)document["info"]!["version"]!, schema, operations);
    }

    /// <summary>Whether the document has this operation, e.g. <c>("PUT", "/collections/{collection_name}/vectors/{vector_name}")</c>.</summary>
    public bool HasOperation(string method, string template) =>
        _operations.Any(o => o.Method == method && o.Template == template);

    /// <summary>Validation errors of <paramref name="json"/> against component schema <paramref name="name"/>; empty when valid.</summary>
    public IReadOnlyList<string> Validate(string name, string json) =>
        _schema.Definitions[name].Validate(json).Select(e => e.ToString()).ToList();

    /// <summary>
    /// Checks a request as the adapter sends it: an operation with its method and path exists, every query parameter is
    /// declared, a body is there exactly when the operation takes one, and the body matches the operation's schema.
    /// </summary>
    public IReadOnlyList<string> ValidateRequest(string method, string pathAndQuery, string? body) =>
        Validate(method, pathAndQuery, body, checkBody: true);

    /// <summary>Checks only that the operation exists and declares every query parameter (for a request whose body depends on data).</summary>
    public IReadOnlyList<string> ValidateRoute(string method, string pathAndQuery) => Validate(method, pathAndQuery, null, checkBody: false);

    private List<string> Validate(string method, string pathAndQuery, string? body, bool checkBody)
    {
        var (path, query) = Split(pathAndQuery);
        var operation = Find(method, path);
        if (operation is null)
        {
            return [$"{Version} has no operation {method} {path}."];
        }

        var problems = query.Where(q => !operation.Query.Contains(q)).Select(q => $"{operation.Template} declares no query parameter '{q}'.").ToList();
        if (!checkBody)
        {
            return problems;
        }

        if (body is null)
        {
            if (operation.HasRequestBody && method != "GET")
            {
                problems.Add($"{method} {operation.Template} takes a body and none was sent.");
            }
        }
        else if (!operation.HasRequestBody)
        {
            problems.Add($"{method} {operation.Template} takes no body.");
        }
        else
        {
            problems.AddRange(Validate($"request {operation.Method} {operation.Template}", body));
        }

        return problems;
    }

    /// <summary>Validation errors of a response body against the operation's documented 200 answer.</summary>
    public IReadOnlyList<string> ValidateResponse(string method, string path, string json)
    {
        var operation = Find(method, path);
        if (operation is null || !operation.HasResponseBody)
        {
            return [$"{Version} documents no JSON answer for {method} {path}."];
        }

        return Validate($"response {operation.Method} {operation.Template}", json);
    }

    private Operation? Find(string method, string path) =>
        _operations
            .Where(o => o.Method == method && o.Pattern.IsMatch(path))
            .OrderByDescending(o => o.Template.Split('/').Count(s => !s.StartsWith('{')))
            .FirstOrDefault();

    private static (string Path, List<string> Query) Split(string pathAndQuery)
    {
        var at = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        var path = "/" + (at < 0 ? pathAndQuery : pathAndQuery[..at]);
        var query = at < 0
            ? []
            : pathAndQuery[(at + 1)..].Split('&').Select(p => p.Split('=')[0]).ToList();
        return (path, query);
    }

    private static Regex TemplateRegex(string template) =>
        new("^" + Regex.Replace(Regex.Escape(template), @"\\\{[^}]+}", "[^/]+") + "$", RegexOptions.CultureInvariant);

    private static JsonNode Convert(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
            {
                var result = new JsonObject();
                var nullable = obj["nullable"] is JsonValue n && n.GetValue<bool>();
                foreach (var (key, value) in obj)
                {
                    switch (key)
                    {
                        case "nullable":
                            break;
                        case "$ref":
                            result[key] = ((string)value!).Replace("#/components/schemas/", "#/definitions/", StringComparison.Ordinal);
                            break;
                        case "properties":
                        case "definitions":
                            var map = new JsonObject();
                            foreach (var (name, schema) in value!.AsObject())
                            {
                                map[name] = Convert(schema!);
                            }

                            result[key] = map;
                            break;
                        default:
                            result[key] = value is null ? null : ConvertValue(value);
                            break;
                    }
                }

                if (result.ContainsKey("properties") && !result.ContainsKey("additionalProperties"))
                {
                    result["additionalProperties"] = false;
                }

                if (nullable)
                {
                    MakeNullable(result);
                }

                return result;
            }

            default:
                return node.DeepClone();
        }
    }

    private static JsonNode ConvertValue(JsonNode value) => value switch
    {
        JsonObject => Convert(value),
        JsonArray array => new JsonArray(array.Select(x => x is null ? null : ConvertValue(x)).ToArray()),
        _ => value.DeepClone(),
    };

    private static void MakeNullable(JsonObject schema)
    {
        if (schema["type"] is JsonValue type)
        {
            schema["type"] = new JsonArray((string)type!, "null");
        }
        else if (schema["anyOf"] is JsonArray anyOf)
        {
            anyOf.Add(new JsonObject { ["type"] = "null" });
        }
        else if (schema.ContainsKey("$ref"))
        {
            var reference = schema["$ref"]!.DeepClone();
            schema.Remove("$ref");
            schema["anyOf"] = new JsonArray(new JsonObject { ["$ref"] = reference }, new JsonObject { ["type"] = "null" });
        }
        else if (schema.All(p => p.Key is "description" or "default" or "example"))
        {
            schema["type"] = "null";
        }
    }

    private sealed record Operation(string Method, string Template, Regex Pattern, HashSet<string> Query, bool HasRequestBody, bool HasResponseBody);
}
