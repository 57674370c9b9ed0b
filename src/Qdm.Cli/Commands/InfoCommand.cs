using System.CommandLine;
using Spectre.Console;

namespace Qdm.Cli.Commands;

/// <summary>qdm info: what a checkpoint holds (architecture read off it, parameter count, diffusion defaults).</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var command = new Command("info", "Load a checkpoint strictly and describe it.");
        model.AddTo(command);
        command.SetAction(result => CliErrors.Run(() =>
        {
            var loaded = model.Load(result);
            long parameters = loaded.Network.parameters().Sum(p => p.numel());
            AnsiConsole.MarkupLineInterpolated($"[bold]source[/]       {loaded.Source}");
            AnsiConsole.MarkupLineInterpolated($"[bold]architecture[/] {loaded.Config.Describe()}");
            AnsiConsole.MarkupLineInterpolated($"[bold]parameters[/]   {parameters:N0} in {loaded.Network.state_dict().Count} tensors");
            AnsiConsole.MarkupLineInterpolated($"[bold]diffusion[/]    {loaded.Diffusion.Describe()}");
            return 0;
        }));
        return command;
    }
}
