using Qdm.IO;
using Qdm.Models;
using Qdm.Checkpoints;
using Qdm.Models.Ddpm;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Models;

/// <summary>diffusers UNet2DModel names (table in ../shared/facts/diffusers-ddpm-mapping.md) load into the DDPM U-Net.</summary>
public class DiffusersDdpmTests : TempFolder
{
    /// <summary>ddim name → diffusers name, written from the facts table (old attention names when oldNames).</summary>
    private static string ToDiffusers(string key, int levels, bool oldNames)
    {
        string[] p = key.Split('.');
        string Attn(string s) => s switch
        {
            "norm" => "group_norm", "q" => oldNames ? "query" : "to_q", "k" => oldNames ? "key" : "to_k",
            "v" => oldNames ? "value" : "to_v", "proj_out" => oldNames ? "proj_attn" : "to_out.0", _ => s,
        };
        string Res(string s) => s switch { "temb_proj" => "time_emb_proj", "nin_shortcut" => "conv_shortcut", _ => s };
        return p[0] switch
        {
            "temb" => $"time_embedding.linear_{int.Parse(p[2]) + 1}.{p[3]}",
            "norm_out" => $"conv_norm_out.{p[1]}",
            "down" or "up" => (p[0] == "down" ? $"down_blocks.{p[1]}" : $"up_blocks.{levels - 1 - int.Parse(p[1])}") + p[2] switch
            {
                "block" => $".resnets.{p[3]}.{Res(p[4])}.{p[5]}",
                "attn" => $".attentions.{p[3]}.{Attn(p[4])}.{p[5]}",
                "downsample" => $".downsamplers.0.conv.{p[4]}",
                _ => $".upsamplers.0.conv.{p[4]}",
            },
            "mid" => p[1] == "attn_1" ? $"mid_block.attentions.0.{Attn(p[2])}.{p[3]}" : $"mid_block.resnets.{(p[1] == "block_1" ? 0 : 1)}.{Res(p[2])}.{p[3]}",
            _ => key,
        };
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Diffusers_checkpoint_gives_the_same_network_as_the_ddim_one(bool oldNames)
    {
        var config = new DdpmUNetConfig { Ch = 32, ChMult = new[] { 1, 2, 2 }, NumResBlocks = 1, AttnResolutions = new[] { 16 }, Resolution = 32 };
        var original = ModelFactory.Create(config);
        using (no_grad()) foreach (var p in original.parameters()) p.copy_(randn(p.shape, generator: new Generator(1)) * 0.05);
        var diffusers = original.state_dict().ToDictionary(
            p => ToDiffusers(p.Key, 3, oldNames),
            p => p.Key.Contains(".attn") && !p.Key.Contains(".norm.") && p.Value.dim() == 4 ? p.Value.flatten(1) : p.Value);   // attention as Linear [C,C]
        var path = Path.Combine(dir, "diffusion_pytorch_model.safetensors");
        Qdm.IO.Safetensors.Write(path, diffusers);

        var loaded = ModelFactory.LoadInferred(dir);
        Assert.Equal(config, loaded.Config);
        using var _ = no_grad();
        var x = randn(2, 3, 32, 32);
        var t = tensor(new float[] { 10, 900 });
        Assert.Equal(0, TensorAssert.MaxAbsDiff(original.call(x, t), loaded.call(x, t)));
        Assert.Contains("diffusers", CheckpointReader.Read(dir).Source);
    }

    [Fact]
    public void A_config_json_with_diffusers_defaults_that_change_the_network_is_refused()
    {
        var path = Path.Combine(dir, "config.json");
        File.WriteAllText(path, """{"_class_name": "UNet2DModel", "norm_eps": 1e-06, "downsample_padding": 0, "flip_sin_to_cos": false, "freq_shift": 1}""");
        var error = Assert.Throws<QdmInputException>(() => DiffusersDdpm.CheckConfig(path));
        Assert.Contains("attention_head_dim", error.Message);   // missing → 8 heads of width C/8, not one head

        File.WriteAllText(path, """{"_class_name": "UNet2DModel", "attention_head_dim": null, "norm_eps": 1e-06, "downsample_padding": 0, "flip_sin_to_cos": false, "freq_shift": 1, "act_fn": "silu"}""");
        DiffusersDdpm.CheckConfig(path);
    }
}
