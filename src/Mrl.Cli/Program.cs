using System.CommandLine;
using Mrl.Adapters;
using Mrl.Cli.Commands;

var root = new RootCommand("mrl: Matryoshka two-pass retrieval over the vector databases you already run.");
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(MigrateCommand.Create());
root.Subcommands.Add(FitProjectionCommand.Create());
root.Subcommands.Add(EmbedCommand.Create());
root.Subcommands.Add(IndexCommand.Create());
root.Subcommands.Add(SearchCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(TuneCommand.Create());
root.Subcommands.Add(InspectCommand.Create());

var parse = root.Parse(args);
try
{
    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is ArgumentException or SchemaMismatchException or NotSupportedException or InvalidOperationException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException
    or Npgsql.NpgsqlException or Mrl.Adapters.Pgvector.PgvectorMigrationException or Mrl.Adapters.Onnx.OnnxModelSignatureException
    or Mrl.Adapters.Qdrant.QdrantException or Mrl.Adapters.Qdrant.Migration.QdrantMigrationException or HttpRequestException)
{
    // Expected failures get one line that names the problem; anything else keeps its stack trace.
    Console.Error.WriteLine($"error: {Mrl.Cli.CliErrors.Describe(e, parse)}");
    return 1;
}
catch (OperationCanceledException e)
{
    Console.Error.WriteLine(e is Mrl.Cli.InterruptedStepException ? $"cancelled: {Mrl.Cli.TerminalText.Plain(e.Message)}" : "cancelled");
    return 130;
}
