using System.Data.Common;

namespace Mrl.Cli.Commands;

/// <summary>
/// How an option's value is shown in a report that is meant to be shared: API keys never, connection strings without their
/// passwords, URLs without their user information; every value quoted for a POSIX shell.
/// </summary>
internal static class CommandLineRedaction
{
    /// <summary>What the report shows for an API key: the variable a reader would put it in.</summary>
    public const string ApiKeyPlaceholder = "\"$QDRANT_API_KEY\"";

    /// <summary>What the report shows for a connection string that does not parse, so nothing of it can be shown safely.</summary>
    public const string ConnectionPlaceholder = "\"$PG\"";

    /// <summary>What replaces a password inside a connection string or a URL.</summary>
    public const string Hidden = "***";

    /// <summary>The value of <paramref name="option"/> (its long name) as the report shows it.</summary>
    public static string Show(string option, string value) => option switch
    {
        "--api-key" => ApiKeyPlaceholder,
        "--connection" => ConnectionString(value) is { } shown ? Quote(shown) : ConnectionPlaceholder,
        "--url" => Quote(Url(value)),
        _ => Quote(value),
    };

    /// <summary>The connection string with the value of every secret-bearing key replaced, or null when it does not parse.</summary>
    public static string? ConnectionString(string value)
    {
        var builder = new DbConnectionStringBuilder();
        try
        {
            builder.ConnectionString = value;
        }
        catch (ArgumentException)
        {
            return null;
        }

        foreach (var key in builder.Keys.Cast<string>().Where(IsSecretKey).ToArray())
        {
            builder[key] = Hidden;
        }

        return builder.ConnectionString;
    }

    // Npgsql's own secrets are Password (alias Pwd) and SSL Password; the rest catch what other drivers and proxies call theirs.
    private static bool IsSecretKey(string key)
    {
        var normalized = key.Replace(" ", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
        return normalized is "pwd" || normalized.Contains("password", StringComparison.Ordinal)
            || normalized.Contains("secret", StringComparison.Ordinal) || normalized.Contains("token", StringComparison.Ordinal)
            || normalized.Contains("apikey", StringComparison.Ordinal);
    }

    private static string Url(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0
            ? new UriBuilder(uri) { UserName = Hidden, Password = string.Empty }.Uri.ToString()
            : value;

    private static string Quote(string value) =>
        value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ',' or '/' or ':' or '=' or '+' or '@')
            ? value
            : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
