using System.CommandLine;
using Qdm.Cli.Commands;

// Logs of long runs are read later: wrap tables at $COLUMNS (or 160) rather than at the 80 columns of no terminal.
if (Console.IsOutputRedirected)
    Spectre.Console.AnsiConsole.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out int columns) && columns > 0 ? columns : 160;

var root = new RootCommand("qdm — post-training quantization toolkit for diffusion models");
root.Subcommands.Add(SampleCommand.Create());
root.Subcommands.Add(MergeCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(StatsCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(CompareCommand.Create());
root.Subcommands.Add(PairedCommand.Create());
root.Subcommands.Add(ReferenceCommand.Create());
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(QuantizeCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(ReproduceCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
return root.Parse(args).Invoke();
