using Qdm.IO;
using Qdm.Metrics.Inception;
using Qdm.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Qdm.Tests.Metrics;

/// <summary>The FID Inception against pytorch-fid's InceptionV3 on real CIFAR-10 images (oracles/inception_fid_*).</summary>
public class FidInceptionOracleTests(ITestOutputHelper output)
{
    [SkippableTheory]
    [InlineData("oracles/inception_fid_random.pth.gz")]
    [InlineData("oracles/inception_fid_random.safetensors.gz")]
    public void Features_match_pytorch_fid(string weights)
    {
        var io = Npz.Read(SharedAssets.Require("oracles/inception_fid_io.npz"));
        using var model = InceptionWeights.Load(SharedAssets.Require(weights));
        using var _ = no_grad();
        var input = FidInceptionV3.Preprocess(io["images_uint8_nhwc"]);
        double dIn = TensorAssert.Close(io["net_input_first2"], input[..2], 4e-6, "network input");   // f32 noise 3.8e-7
        using var features = model.Features(input);

        // Oracle README: pool3 f32-vs-f64 8.9e-5 (max 4.3e-5 relative), spatial 1.1e-4, logits 3.4e-4. Target < 1e-3 relative on pool3.
        double pool3Max = io["pool3"].abs().max().item<float>();
        double dPool = TensorAssert.Close(io["pool3"], features.Pool3, 1e-3 * pool3Max, "pool3");
        double dSpatial = TensorAssert.Close(io["spatial_adm_flat"], features.Spatial, 5e-4, "spatial (sFID)");
        double dLogits = TensorAssert.Close(io["logits_no_bias"], features.Logits, 1.5e-3, "logits without bias");
        output.WriteLine($"{weights}: input {dIn:G3}, pool3 {dPool:G3} ({dPool / pool3Max:G3} of max), spatial {dSpatial:G3}, logits {dLogits:G3}");
    }
}
