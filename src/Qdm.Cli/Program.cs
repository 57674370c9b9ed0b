using System.CommandLine;
using Qdm.Cli.Commands;

var root = new RootCommand("qdm — post-training quantization toolkit for diffusion models");
root.Subcommands.Add(SampleCommand.Create());
root.Subcommands.Add(MergeCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(StatsCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(CompareCommand.Create());
root.Subcommands.Add(ReferenceCommand.Create());
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(QuantizeCommand.Create());
root.Subcommands.Add(ReproduceCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
return root.Parse(args).Invoke();
