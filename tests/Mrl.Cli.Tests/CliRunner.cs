using System.Diagnostics;

namespace Mrl.Cli.Tests;

/// <summary>Runs the built <c>mrl</c> as a user would, and captures what it prints.</summary>
internal static class CliRunner
{
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        var (exitCode, output, error) = await RunSeparatelyAsync(arguments);
        return (exitCode, output + error);
    }

    /// <summary>Runs <c>mrl</c> and returns standard output and standard error apart, for what must go to one of them.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunSeparatelyAsync(params string[] arguments)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "mrl.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["COLUMNS"] = "200";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
