using Mrl.Adapters;
using Spectre.Console;

namespace Mrl.Cli;

/// <summary>
/// Text from a store, a file or a server, made safe to print: ids, documents, names and error messages may hold escape
/// sequences (clear the screen, set the window title, write the clipboard with OSC 52) that a terminal would obey.
/// Every command prints such text through here.
/// </summary>
internal static class TerminalText
{
    /// <summary>For <see cref="Console"/> and <see cref="AnsiConsole.WriteLine(string)"/>: control characters as <c>\uXXXX</c>.</summary>
    public static string Plain(string text) => UnicodeText.EscapeForDisplay(text);

    /// <summary>For Spectre markup and table cells: control characters as <c>\uXXXX</c>, and markup brackets escaped.</summary>
    public static string Markup(string text) => Spectre.Console.Markup.Escape(Plain(text));
}
