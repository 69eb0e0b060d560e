using System.Globalization;
using System.Text;

namespace Mrl.Cli;

/// <summary>Text from a database or a user, made safe to print on one line: control characters are shown escaped, never obeyed.</summary>
internal static class TerminalText
{
    /// <summary>The text with every control character (newline, escape, ...) written as <c>\u001b</c> and the like.</summary>
    public static string Comment(string text)
    {
        if (!text.Any(char.IsControl))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            builder.Append(char.IsControl(c) ? string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}") : c);
        }

        return builder.ToString();
    }
}
