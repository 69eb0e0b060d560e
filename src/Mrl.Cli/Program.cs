using System.CommandLine;
using Mrl.Cli.Commands;

var root = new RootCommand("mrl: Matryoshka two-pass retrieval over the vector databases you already run.");
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(MigrateCommand.Create());
return await root.Parse(args).InvokeAsync();
