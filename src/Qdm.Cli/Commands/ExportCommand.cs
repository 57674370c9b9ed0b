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
            string Entries(bool vnni) =>
                OnnxDeployment.SessionConfig(loaded.Network, vnni) is { Count: > 0 } entries ? string.Join(", ", entries.Select(p => $"{p.Key} = {p.Value}")) : "defaults";
            AnsiConsole.MarkupLineInterpolated($"[green]wrote[/]   {path} ({new FileInfo(path).Length / 1e6:F2} MB, {onnx.Graph.Node.Count} nodes, {ops.GetValueOrDefault("QuantizeLinear")} QuantizeLinear, {ops.GetValueOrDefault("DequantizeLinear")} DequantizeLinear)");
            AnsiConsole.MarkupLineInterpolated($"inputs  x [[N, {loaded.Config.InChannels}, {loaded.Config.ImageSize}, {loaded.Config.ImageSize}]] in [[-1, 1]], t [[N]] float; {loaded.Diffusion.Describe()}");
            string withVnni = Entries(true), withoutVnni = Entries(false);
            AnsiConsole.MarkupLineInterpolated($"open it with ONNX Runtime session config {withVnni}{(withoutVnni == withVnni ? "" : $" ({withoutVnni} on x64 CPUs without VNNI)")} (also in the file's metadata: {OnnxDeployment.MetadataPrefix}ort_session_config, …_without_vnni)");
            return 0;
        }));
        return command;
    }
}
