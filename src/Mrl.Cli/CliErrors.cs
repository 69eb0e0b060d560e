using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Mrl.Adapters;

namespace Mrl.Cli;

/// <summary>
/// An expected failure as one line in the terms of the command line: the option the user typed instead of a C# parameter
/// or property name, a JSON file's line and column instead of the reader's zero-based positions.
/// </summary>
internal static partial class CliErrors
{
    // The library's parameter names, and the options of the commands that set them, in order of preference.
    private static readonly Dictionary<string, string[]> ParameterOptions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["prefixDimensions"] = ["--prefix", "--prefix-dims"],
        ["fullDimensions"] = ["--dims"],
        ["dimensions"] = ["--dims"],
        ["metric"] = ["--metric"],
        ["k"] = ["--k"],
        ["oversampling"] = ["--oversampling"],
        ["efSearch"] = ["--ef-search"],
        ["count"] = ["--count"],
        ["queries"] = ["--queries"],
    };

    private const string CreateTableHint = "Create it, or let the store create it (CreateTableIfMissing = true).";

    /// <summary>The message to print after <c>error: </c>.</summary>
    public static string Describe(Exception exception, ParseResult? parse)
    {
        var message = exception.Message;
        if (exception is ArgumentException { ParamName: { } parameter })
        {
            message = ParameterSuffix().Replace(message, "");
            message = ActualValue().Replace(message, "");
            if (!message.StartsWith("--", StringComparison.Ordinal) && OptionFor(parameter, parse) is { } option)
            {
                message = $"{option}: {message}";
            }
        }

        if (Find<JsonException>(exception) is { LineNumber: { } line } json)
        {
            // The reader counts lines and bytes from 0 and appends them to its message; people count from 1.
            var position = string.Create(CultureInfo.InvariantCulture, $"line {line + 1}, column {json.BytePositionInLine.GetValueOrDefault() + 1}");
            message = JsonPosition().Replace(message, $" ({position})");
        }

        if (exception is SchemaMismatchException)
        {
            message = message.Replace(CreateTableHint,
                "Check --table (name or schema.name): `mrl index --postgres` creates its own table, and `mrl migrate postgres` prepares one you have.",
                StringComparison.Ordinal);
        }

        return TerminalText.Plain(message.TrimEnd());
    }

    /// <summary>A JSON reader's message without the zero-based position it appends, for a caller that says where itself.</summary>
    public static string WithoutPosition(JsonException exception) => JsonPosition().Replace(exception.Message, "").TrimEnd();

    private static string? OptionFor(string parameter, ParseResult? parse)
    {
        if (!ParameterOptions.TryGetValue(parameter, out var candidates))
        {
            return null;
        }

        var options = parse?.CommandResult.Command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).ToHashSet(StringComparer.Ordinal) ?? [];
        return candidates.FirstOrDefault(options.Contains);
    }

    private static T? Find<T>(Exception exception) where T : Exception
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }

    [GeneratedRegex(@"\s*\(Parameter '[^']*'\)")]
    private static partial Regex ParameterSuffix();

    [GeneratedRegex(@"\r?\nActual value was [^\r\n]*")]
    private static partial Regex ActualValue();

    [GeneratedRegex(@"\s*(Path: \S* \| )?LineNumber: \d+ \| BytePositionInLine: \d+\.?")]
    private static partial Regex JsonPosition();
}
