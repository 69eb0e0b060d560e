using System.Globalization;
using System.Text;

namespace Mrl.Adapters.Pgvector;

/// <summary>The one place where PostgreSQL identifiers are validated and quoted.</summary>
internal static class SqlIdentifier
{
    /// <summary>PostgreSQL truncates identifiers longer than this many bytes (NAMEDATALEN - 1).</summary>
    public const int MaxBytes = 63;

    /// <summary>Checks a name and returns it double-quoted, with embedded quotes doubled.</summary>
    /// <exception cref="ArgumentException">The name is empty, longer than 63 bytes in UTF-8, contains a NUL, or has a lone surrogate.</exception>
    public static string Quote(string name, string what = "identifier")
    {
        Validate(name, what);
        return "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>Throws unless <paramref name="name"/> can be used as an identifier unchanged.</summary>
    /// <exception cref="ArgumentException">The name is empty, longer than 63 bytes in UTF-8, contains a NUL, or has a lone surrogate.</exception>
    public static void Validate(string name, string what = "identifier")
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException($"The {what} is empty.", nameof(name));
        }

        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"The {what} contains a NUL character.", nameof(name));
        }

        // A lone surrogate has no UTF-8 form: the name would change on its way to the server.
        if (UnicodeText.IndexOfLoneSurrogate(name) >= 0)
        {
            throw new ArgumentException($"The {what} is not valid Unicode (it has a lone surrogate).", nameof(name));
        }

        var bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes > MaxBytes)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The {what} '{name}' is {bytes} bytes long in UTF-8; PostgreSQL would silently truncate it to {MaxBytes}."), nameof(name));
        }
    }

    /// <summary>Quotes <c>schema.name</c>.</summary>
    public static string Qualified(string schema, string name) => Quote(schema, "schema name") + "." + Quote(name, "table name");

    /// <summary>
    /// Splits <c>schema.table</c> (each part optionally double-quoted) into its parts; a name without a schema gets <paramref name="defaultSchema"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The text is not one or two identifiers separated by a dot.</exception>
    public static (string Schema, string Name) ParseQualified(string text, string defaultSchema = "public")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var parts = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == '.')
            {
                parts.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        if (quoted)
        {
            throw new ArgumentException($"Unterminated quote in '{text}'.", nameof(text));
        }

        parts.Add(current.ToString());
        foreach (var part in parts)
        {
            Validate(part, "name part");
        }

        return parts.Count switch
        {
            1 => (defaultSchema, parts[0]),
            2 => (parts[0], parts[1]),
            _ => throw new ArgumentException($"Expected 'table' or 'schema.table', got '{text}'.", nameof(text)),
        };
    }

    /// <summary>
    /// Derives a name from a base and a suffix that fits in 63 bytes: long names are cut and given a short hash, so that two
    /// long tables still get distinct names. The base is cut first, from its end; then, if the suffix alone is too long (a long
    /// column name in it), the suffix from its start, so that its meaningful ending (<c>_hnsw</c>, <c>_fill</c>) stays.
    /// Surrogate pairs are never split.
    /// </summary>
    public static string Derive(string baseName, string suffix)
    {
        var candidate = baseName + "_" + suffix;
        if (Encoding.UTF8.GetByteCount(candidate) <= MaxBytes)
        {
            return candidate;
        }

        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(candidate)))[..8];
        var keep = baseName;
        var tail = suffix;
        while (Encoding.UTF8.GetByteCount(keep + "_" + hash + "_" + tail) > MaxBytes && keep.Length > 0)
        {
            keep = keep[..^(char.IsLowSurrogate(keep[^1]) && keep.Length > 1 ? 2 : 1)];
        }

        while (Encoding.UTF8.GetByteCount(keep + "_" + hash + "_" + tail) > MaxBytes && tail.Length > 0)
        {
            tail = tail[(char.IsHighSurrogate(tail[0]) && tail.Length > 1 ? 2 : 1)..];
        }

        return keep + "_" + hash + "_" + tail;
    }
}
