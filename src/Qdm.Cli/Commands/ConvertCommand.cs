using System.CommandLine;
using Qdm.IO;
using Qdm.Checkpoints;
using Spectre.Console;
using static TorchSharp.torch;

namespace Qdm.Cli.Commands;

/// <summary>qdm convert: a checkpoint (any supported format or nesting) to a flat safetensors file, optionally fp16.</summary>
public static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--model") { Description = "Input checkpoint.", Required = true };
        var key = new Option<string?>("--ckpt-key") { Description = "Entry of the state dict inside the file; default picks it." };
        var half = new Option<bool>("--fp16") { Description = "Store floating-point tensors as float16 (loaded back as float32)." };
        var output = new Option<string>("--out") { Description = "Output .safetensors.", Required = true };
        var command = new Command("convert", "Convert a checkpoint to safetensors (records the source's sha256).") { input, key, half, output };
        command.SetAction(result => CliErrors.Run(() =>
        {
            var path = result.GetValue(input)!;
            var stateDict = CheckpointReader.Read(path, result.GetValue(key));
            var tensors = result.GetValue(half)
                ? stateDict.Tensors.ToDictionary(p => p.Key, p => p.Value.is_floating_point() ? p.Value.to(ScalarType.Float16) : p.Value)
                : stateDict.Tensors;
            var sha = IO.FileHash.Sha256(path);
            Safetensors.Write(result.GetValue(output)!, tensors, new Dictionary<string, string>
            {
                ["source_file"] = Path.GetFileName(path),
                ["source_sha256"] = sha,
                ["converted_by"] = "qdm convert" + (result.GetValue(half) ? " --fp16" : ""),
            });
            AnsiConsole.MarkupLineInterpolated($"[green]wrote[/] {result.GetValue(output)} ({tensors.Count} tensors, from {stateDict.Source}, sha256 {sha[..12]}…)");
            return 0;
        }));
        return command;
    }
}
