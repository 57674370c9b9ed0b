using System.CommandLine;
using Qdm.Metrics;
using Spectre.Console;

namespace Qdm.Cli.Commands;

/// <summary>qdm paired: is set A better than set B? Two sample sets from the same seeds against one reference, with the gap's noise.</summary>
public static class PairedCommand
{
    public static Command Create()
    {
        var first = new Argument<string>("stats-a") { Description = "Statistics file with features (qdm stats) of the first sample set." };
        var second = new Argument<string>("stats-b") { Description = "Statistics file of the second set, sampled from the same seeds (image i of each from the same noise)." };
        var reference = new Option<string>("--ref") { Description = "Reference statistics both sets are measured against.", Required = true };
        var replicates = new Option<int>("--bootstrap") { Description = "Paired-bootstrap replicates.", DefaultValueFactory = _ => 100 };
        var limit = new Option<long?>("--limit") { Description = "Use only the first N images of each set (e.g. while the second set is still sampling)." };
        var threads = new Option<int>("--threads") { Description = "CPU threads (the bootstrap's Fréchet distances are the heavy part).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var subsets = new Option<int>("--subsets") { Description = "Also the gap on K disjoint subsets (its spread checks the bootstrap at N/K images).", DefaultValueFactory = _ => 0 };
        var command = new Command("paired", "FD of two sample sets from the same seeds against one reference, their gap, and the gap's sampling noise.") { first, second, reference, replicates, subsets, limit, threads };
        command.SetAction(result => CliErrors.Run(() =>
        {
            TorchSharp.torch.set_num_threads(Math.Max(1, result.GetValue(threads)));
            var a = ReferenceStatistics.Load(result.GetValue(first)!);
            var b = ReferenceStatistics.Load(result.GetValue(second)!);
            var r = ReferenceStatistics.Load(result.GetValue(reference)!);
            if (a.Features is null || b.Features is null) throw new QdmInputException("both statistics files must hold their features (made by qdm stats or qdm reproduce).");
            if (a.Network != b.Network || (r.Network != "unknown" && r.Network != a.Network))
                throw new QdmInputException($"statistics of different networks cannot be compared ('{a.Network}', '{b.Network}', reference '{r.Network}').");
            var (featuresA, featuresB) = (a.Features, b.Features);
            long smaller = Math.Min(featuresA.shape[0], featuresB.shape[0]);
            if (result.GetValue(limit) is { } n)
            {
                if (n < 2 || n > smaller) throw new QdmInputException($"--limit must be between 2 and the smaller set's {smaller} images, got {n}.");
                (featuresA, featuresB) = (featuresA.narrow(0, 0, n), featuresB.narrow(0, 0, n));
            }
            else if (featuresA.shape[0] != featuresB.shape[0])
                throw new QdmInputException($"the sets hold {featuresA.shape[0]} and {featuresB.shape[0]} images; pair their first N with --limit N.");
            var gap = PairedGap.Measure(featuresA, featuresB, r.Pooled, result.GetValue(replicates), result.GetValue(subsets));
            var metric = a.Network.StartsWith("resnet18", StringComparison.Ordinal) ? "FD-R18" : "FID";
            var table = new Table().AddColumns("", "value");
            table.AddRow($"{metric} A / B", $"{gap.FdA:F3} / {gap.FdB:F3}");
            table.AddRow("gap A − B", $"{gap.Gap:F3}");
            table.AddRow($"paired-bootstrap std of the gap ({gap.Replicates} replicates, {gap.Count} images)", $"{gap.BootstrapStd:F3}");
            if (gap.SubsetGaps.Count > 0)
            {
                table.AddRow($"gap on {gap.SubsetGaps.Count} disjoint subsets of {gap.Count / gap.SubsetGaps.Count}", string.Join(", ", gap.SubsetGaps.Select(g => g.ToString("F2"))));
                table.AddRow("  their std / mean paired-bootstrap std within a subset", $"{gap.SubsetStd:F3} / {gap.SubsetBootstrapStd:F3}");
            }
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }
}
