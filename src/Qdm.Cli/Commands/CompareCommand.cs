using System.CommandLine;
using Qdm.Metrics;
using Spectre.Console;

namespace Qdm.Cli.Commands;

/// <summary>qdm compare: two statistics files of the same feature network, e.g. CIFAR-10 train vs test.</summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var first = new Argument<string>("stats-a") { Description = "Statistics file (qdm stats) of the first set." };
        var second = new Argument<string>("stats-b") { Description = "Statistics file of the second (reference) set." };
        var command = new Command("compare", "FD, spatial FD, KID and precision/recall between two statistics files.") { first, second };
        command.SetAction(result => CliErrors.Run(() =>
        {
            var report = Compare(result.GetValue(first)!, result.GetValue(second)!);
            EvalCommand.Print(report);
            return 0;
        }));
        return command;
    }

    public static EvaluationReport Compare(string a, string b)
    {
        var sa = ReferenceStatistics.Load(a);
        var sb = ReferenceStatistics.Load(b);
        bool r18 = sa.Network.StartsWith("resnet18", StringComparison.Ordinal);
        return Evaluation.Compare(sa, sb, r18 ? "FD-R18" : "FID", r18 ? "sFD-R18" : "sFID");
    }
}
