using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Mrl.Adapters.Pgvector;

/// <summary>One statement of a rendered script: its text and the values bound to <c>$1, $2, ...</c>.</summary>
internal sealed record SqlStatement(string Text, IReadOnlyList<object?> Parameters)
{
    /// <summary>
    /// The statement as psql would show it, with the bound values in a trailing comment. A saved plan is meant to be read
    /// in a terminal and run with <c>psql -f</c>: a name or value holding a line break would end the comment and run the
    /// rest of the line, and an escape sequence would act on the terminal. So identifiers and values that hold such
    /// characters are written in PostgreSQL's Unicode-escape form (<c>U&amp;"a\000Ab"</c>), which means the same name.
    /// </summary>
    public string ToDisplayString() => Parameters.Count == 0
        ? DisplayText(Text) + ";"
        : DisplayText(Text) + ";\n-- " + string.Join(", ", Parameters.Select((p, i) => string.Create(CultureInfo.InvariantCulture, $"${i + 1} = {Format(p)}")));

    private static string Format(object? value) => value switch
    {
        null => "NULL",
        string s => Quoted(s, '\''),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => UnicodeText.EscapeForDisplay(value.ToString() ?? ""),
    };

    // Rewrites each double-quoted identifier that holds a character unsafe to display; string literals and comments of
    // the script are copied as they are (values are parameters, so the script's own text is all that is there).
    private static string DisplayText(string text)
    {
        if (!text.Any(UnicodeText.IsUnsafeForDisplay))
        {
            return text;
        }

        var shown = new StringBuilder(text.Length + 16);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '"' or '\'')
            {
                var end = i + 1;
                while (end < text.Length && (text[end] != c || (end + 1 < text.Length && text[end + 1] == c)))
                {
                    end += text[end] == c ? 2 : 1;
                }

                var content = text[(i + 1)..Math.Min(end, text.Length)].Replace(new string(c, 2), new string(c, 1), StringComparison.Ordinal);
                shown.Append(c == '"' ? Quoted(content, '"') : text[i..Math.Min(end + 1, text.Length)]);
                i = end;
            }
            else if (c == '-' && i + 1 < text.Length && text[i + 1] == '-')
            {
                var end = text.IndexOf('\n', i);
                end = end < 0 ? text.Length : end;
                shown.Append(text, i, end - i);
                i = end - 1;
            }
            else
            {
                shown.Append(c);
            }
        }

        return shown.ToString();
    }

    // Plain quoting when every character is safe to display, else the U& form with \XXXX escapes (the backslash doubled).
    private static string Quoted(string content, char quote)
    {
        var doubled = content.Replace(new string(quote, 1), new string(quote, 2), StringComparison.Ordinal);
        if (!content.Any(UnicodeText.IsUnsafeForDisplay))
        {
            return quote + doubled + quote;
        }

        var escaped = new StringBuilder("U&").Append(quote);
        foreach (var ch in doubled)
        {
            if (ch == '\\')
            {
                escaped.Append(@"\\");
            }
            else if (UnicodeText.IsUnsafeForDisplay(ch))
            {
                escaped.Append(CultureInfo.InvariantCulture, $"\\{(int)ch:X4}");
            }
            else
            {
                escaped.Append(ch);
            }
        }

        return escaped.Append(quote).ToString();
    }
}

/// <summary>The variables a script is rendered with, by kind: identifiers are quoted, raw tokens checked, values bound as parameters.</summary>
internal sealed class ScriptVariables
{
    private static readonly Regex SafeRaw = new("^[A-Za-z0-9_]*$", RegexOptions.CultureInvariant);

    private readonly Dictionary<string, string> _identifiers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _raw = new(StringComparer.Ordinal);
    private readonly Dictionary<string, object?> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _literals = new(StringComparer.Ordinal);

    public ScriptVariables Identifier(string name, string value)
    {
        SqlIdentifier.Validate(value, name);
        _identifiers[name] = value;
        return this;
    }

    /// <summary>A token spliced in as it is: a keyword, a type name or an integer. Anything but letters, digits and underscores is refused.</summary>
    public ScriptVariables Raw(string name, string value)
    {
        if (!SafeRaw.IsMatch(value))
        {
            throw new ArgumentException($"Script variable '{name}' must be a plain token, got '{value}'.", nameof(value));
        }

        _raw[name] = value;
        return this;
    }

    /// <summary>A schema-qualified function name spliced in as it is (<c>"extensions".l2_normalize</c>), or nothing when <paramref name="function"/> is null.</summary>
    public ScriptVariables Function(string name, string schema, string? function)
    {
        if (function is not null && (function.Length == 0 || !SafeRaw.IsMatch(function)))
        {
            throw new ArgumentException($"Script variable '{name}' must name a function with a plain token, got '{function}'.", nameof(function));
        }

        _raw[name] = function is null ? "" : SqlIdentifier.Quote(schema, "schema name") + "." + function;
        return this;
    }

    public ScriptVariables Raw(string name, int value) => Raw(name, value.ToString(CultureInfo.InvariantCulture));

    public ScriptVariables Value(string name, object? value)
    {
        _values[name] = value;
        return this;
    }

    /// <summary>
    /// A <c>:'name'</c> variable written into the statement as a string literal, as psql writes it, rather than bound: for the few
    /// places that take no parameter (a partial index's predicate). The value is configuration, checked like an identifier:
    /// control characters and backslashes are refused, quotes doubled.
    /// </summary>
    public ScriptVariables Literal(string name, string value)
    {
        if (value.Any(c => char.IsControl(c) || c == '\\'))
        {
            throw new ArgumentException($"Script variable '{name}' holds a control character or a backslash; use a plain value.", nameof(value));
        }

        _literals[name] = "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
        return this;
    }

    public bool TryGetLiteral(string name, out string value) => _literals.TryGetValue(name, out value!);

    /// <summary>The text a <c>:'name'</c> variable stands for when the script is shown rather than run.</summary>
    public bool TryGetIdentifier(string name, out string value) => _identifiers.TryGetValue(name, out value!);

    public bool TryGetRaw(string name, out string value) => _raw.TryGetValue(name, out value!);

    public bool TryGetValue(string name, out object? value) => _values.TryGetValue(name, out value);
}

/// <summary>
/// A psql script from <c>sql/pgvector/</c>, embedded in this assembly, rendered for Npgsql: <c>:"x"</c> becomes a quoted
/// identifier, <c>:x</c> a checked raw token, <c>:'x'</c> a bound parameter (a literal in psql). Scripts run unchanged with
/// <c>psql -v</c>, so there is one copy of every migration statement.
/// </summary>
internal sealed class SqlScript
{
    private static readonly Regex Variable = new(@"(?<!:):(?:""(?<ident>\w+)""|'(?<value>\w+)'|(?<raw>[A-Za-z_]\w*))", RegexOptions.CultureInvariant);

    private SqlScript(string name, string text)
    {
        Name = name;
        Text = text;
    }

    public string Name { get; }

    public string Text { get; }

    public static SqlScript Load(string name)
    {
        var resource = "Mrl.Adapters.Pgvector.Sql." + name + ".sql";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The SQL script '{name}.sql' is not embedded in {Assembly.GetExecutingAssembly().GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return new SqlScript(name, reader.ReadToEnd());
    }

    /// <summary>Renders every statement of the script.</summary>
    /// <exception cref="InvalidOperationException">The script uses a variable that was not given, or given as another kind.</exception>
    public IReadOnlyList<SqlStatement> Render(ScriptVariables variables)
    {
        var statements = new List<SqlStatement>();
        foreach (var raw in Split(Text))
        {
            var parameters = new List<object?>();
            var positions = new Dictionary<string, int>(StringComparer.Ordinal);
            var text = Variable.Replace(raw, match =>
            {
                if (match.Groups["ident"].Success)
                {
                    var name = match.Groups["ident"].Value;
                    return variables.TryGetIdentifier(name, out var value)
                        ? SqlIdentifier.Quote(value, name)
                        : throw Missing(name, "an identifier");
                }

                if (match.Groups["value"].Success)
                {
                    var name = match.Groups["value"].Value;
                    if (variables.TryGetLiteral(name, out var literal))
                    {
                        return literal;
                    }

                    if (!variables.TryGetValue(name, out var value))
                    {
                        throw Missing(name, "a value");
                    }

                    if (!positions.TryGetValue(name, out var position))
                    {
                        parameters.Add(value);
                        position = parameters.Count;
                        positions[name] = position;
                    }

                    return "$" + position.ToString(CultureInfo.InvariantCulture);
                }

                var rawName = match.Groups["raw"].Value;
                return variables.TryGetRaw(rawName, out var token) ? token : throw Missing(rawName, "a raw token");
            });
            statements.Add(new SqlStatement(text, parameters));
        }

        return statements;
    }

    private InvalidOperationException Missing(string name, string kind) =>
        new($"Script {Name}.sql uses :{name}, which was not given as {kind}.");

    /// <summary>Splits on semicolons outside quotes, dollar quotes and comments; drops comment-only pieces.</summary>
    internal static IEnumerable<string> Split(string script)
    {
        var start = 0;
        var i = 0;
        while (i < script.Length)
        {
            var c = script[i];
            if (c == '-' && i + 1 < script.Length && script[i + 1] == '-')
            {
                var end = script.IndexOf('\n', i);
                i = end < 0 ? script.Length : end + 1;
            }
            else if (c is '\'' or '"')
            {
                var end = script.IndexOf(c, i + 1);
                i = end < 0 ? script.Length : end + 1;
            }
            else if (c == '$' && DollarTag(script, i) is { } tag)
            {
                var end = script.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                i = end < 0 ? script.Length : end + tag.Length;
            }
            else if (c == ';')
            {
                if (Trimmed(script[start..i]) is { } statement)
                {
                    yield return statement;
                }

                start = ++i;
            }
            else
            {
                i++;
            }
        }

        if (Trimmed(script[start..]) is { } last)
        {
            yield return last;
        }
    }

    private static string? DollarTag(string script, int i)
    {
        var j = i + 1;
        while (j < script.Length && (char.IsLetterOrDigit(script[j]) || script[j] == '_'))
        {
            j++;
        }

        return j < script.Length && script[j] == '$' ? script[i..(j + 1)] : null;
    }

    private static string? Trimmed(string piece)
    {
        var lines = piece.Split('\n').Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal));
        var text = string.Join('\n', lines).Trim();
        return text.Length == 0 ? null : text;
    }
}
