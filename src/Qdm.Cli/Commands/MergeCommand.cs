using System.CommandLine;
using Qdm.Sampling;
using Spectre.Console;

namespace Qdm.Cli.Commands;

/// <summary>qdm merge: joins the samples of several shards into one .npz in image order.</summary>
public static class MergeCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("shards") { Description = "Shard files (samples_shard*of*.npz) or folders holding them.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "Merged .npz.", Required = true };
        var command = new Command("merge", "Merge sharded sample files into one .npz (checks every image is present once).") { inputs, output };
        command.SetAction(result => CliErrors.Run(() =>
        {
            var files = result.GetValue(inputs)!.SelectMany(p => Directory.Exists(p)
                ? Directory.GetFiles(p, "samples_shard*of*.npz", SearchOption.AllDirectories)
                : new[] { p }).OrderBy(f => f, StringComparer.Ordinal).ToList();
            long count = SampleMerge.Merge(files, result.GetValue(output)!);
            AnsiConsole.MarkupLineInterpolated($"[green]merged[/] {files.Count} shards, {count} images → {result.GetValue(output)}");
            return 0;
        }));
        return command;
    }
}
