using System.Text.RegularExpressions;
using Qdm.Tests.Support;

namespace Qdm.Tests;

/// <summary>Imports flow one way: each folder of src/Qdm may use only the namespaces listed below it.</summary>
public partial class ArchitectureTests
{
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["IO"] = Array.Empty<string>(),
        ["Nn"] = Array.Empty<string>(),
        ["Diffusion"] = Array.Empty<string>(),
        ["Checkpoints"] = new[] { "IO" },
        ["Models"] = new[] { "Nn", "Checkpoints", "IO" },
        ["Metrics"] = new[] { "Nn", "Checkpoints", "IO" },
        ["Quant"] = Array.Empty<string>(),
        ["Placement"] = new[] { "Quant", "Models", "Nn" },
        ["Sampling"] = new[] { "Models", "Diffusion", "Checkpoints", "IO" },
        ["Calibration"] = new[] { "Sampling", "Diffusion", "Models", "IO", "Nn" },
        ["Export"] = new[] { "Quant", "Placement", "Diffusion", "Models", "Nn", "IO" },
        ["Reconstruction"] = new[] { "Calibration", "Placement", "Quant", "Sampling", "Diffusion", "Models", "IO", "Nn" },
        ["Workflows"] = new[] { "Reconstruction", "Calibration", "Placement", "Quant", "Sampling", "Diffusion", "Models", "Metrics", "Export", "IO", "Nn" },
    };

    [Fact]
    public void Namespaces_only_use_the_layers_below_them()
    {
        var src = Path.Combine(SharedAssets.RepoRoot, "src", "Qdm");
        var violations = new List<string>();
        foreach (var folder in Directory.GetDirectories(src).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")))
        {
            Assert.True(Allowed.ContainsKey(folder!), $"src/Qdm/{folder} has no entry in the layering table");
            foreach (var file in Directory.GetFiles(Path.Combine(src, folder!), "*.cs", SearchOption.AllDirectories))
                foreach (Match m in QdmReference().Matches(File.ReadAllText(file)))
                {
                    var used = m.Groups[1].Value;
                    if (used != folder && !Allowed[folder!].Contains(used)) violations.Add($"{Path.GetRelativePath(src, file)} uses Qdm.{used}");
                }
        }
        Assert.True(violations.Count == 0, string.Join("\n", violations.Distinct()));
    }

    [GeneratedRegex(@"\bQdm\.(IO|Nn|Diffusion|Checkpoints|Models|Metrics|Sampling|Quant|Placement|Calibration|Reconstruction|Export|Workflows)\b")]
    private static partial Regex QdmReference();
}
