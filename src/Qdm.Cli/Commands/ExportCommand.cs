using System.CommandLine;
using Qdm.Export;
using Spectre.Console;

namespace Qdm.Cli.Commands;

/// <summary>qdm export: a checkpoint or a quantized .qdm as a self-describing ONNX file for other runtimes.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var output = new Option<string>("--out") { Description = "Output .onnx file.", Required = true };
        var command = new Command("export",
            "Export a model (checkpoint: FP32 graph; .qdm: QDQ graph) to ONNX, with metadata saying what to feed it and how ONNX Runtime should open it.");
        model.AddTo(command);
        command.Options.Add(output);
        command.SetAction(result => CliErrors.Run(() =>
        {
            var path = result.GetValue(output)!;
            if (!path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
                throw new QdmInputException($"--out '{path}' must end in .onnx.");
            var (loaded, quantization) = model.LoadForInference(result);
            var onnx = OnnxDeployment.Build(loaded.Network, loaded.Diffusion, loaded.Source, quantization);
            UNetOnnxExporter.Save(onnx, path);

            var ops = onnx.Graph.Node.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
            var session = OnnxDeployment.SessionConfig(loaded.Network);
            AnsiConsole.MarkupLineInterpolated($"[green]wrote[/]   {path} ({new FileInfo(path).Length / 1e6:F2} MB, {onnx.Graph.Node.Count} nodes, {ops.GetValueOrDefault("QuantizeLinear")} QuantizeLinear, {ops.GetValueOrDefault("DequantizeLinear")} DequantizeLinear)");
            AnsiConsole.MarkupLineInterpolated($"inputs  x [[N, {loaded.Config.InChannels}, {loaded.Config.ImageSize}, {loaded.Config.ImageSize}]] in [[-1, 1]], t [[N]] float; {loaded.Diffusion.Describe()}");
            AnsiConsole.MarkupLineInterpolated($"open it with ONNX Runtime session config {(session.Count == 0 ? "defaults" : string.Join(", ", session.Select(p => $"{p.Key} = {p.Value}")))} (also in the file's metadata, key {OnnxDeployment.MetadataPrefix}ort_session_config)");
            return 0;
        }));
        return command;
    }
}
