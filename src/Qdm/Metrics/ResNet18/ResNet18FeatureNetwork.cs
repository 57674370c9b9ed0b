using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Qdm.Metrics.ResNet18;

/// <summary>
/// ImageNet ResNet-18 from NuGet `Microsoft.ML.DnnImageFeaturizer.ResNet18` (CNTK 2.6 export), run with ONNX Runtime.
/// Input contract (read from the graphs, docs/feature-networks.md): uint8 RGB → float 0..255 → bilinear resize to
/// 224×224 (half-pixel centres, align_corners=False, done here for every set alike) → `ResNetPreprocess.onnx`
/// (RGB→BGR, subtract the 224×224 mean image; no scaling) → `ResNet18.onnx`.
/// Features: `Pooling395_Output_0` (512-d global average pool) and the first 7 channels of `ReLU347_Output_0`
/// (the last 14×14 stage-3 map, 256 channels) flattened NHWC: 14·14·7 = 1372 values, the analogue of sFID's layer.
/// Both graphs ship with batch 1; their batch dimension is made symbolic before the sessions are created.
/// </summary>
public sealed class ResNet18FeatureNetwork : IFeatureNetwork
{
    public const string PooledOutput = "Pooling395_Output_0", SpatialOutput = "ReLU347_Output_0";
    public const int InputSize = 224, SpatialChannels = 7, SpatialSide = 14;
    private readonly InferenceSession preprocess, network;
    private readonly string preprocessInput, preprocessOutput, networkInput;

    public string Name => "resnet18-imagenet (ML.NET DnnImageFeaturizer ONNX, bilinear resize to 224)";
    public string PooledMetric => "FD-R18";
    public string SpatialMetric => "sFD-R18";
    public int PooledSize => 512;
    public int SpatialSize => SpatialSide * SpatialSide * SpatialChannels;
    public bool HasClassifier => false;

    public ResNet18FeatureNetwork(string modelsFolder, int threads)
    {
        var prepPath = Path.Combine(modelsFolder, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        var netPath = Path.Combine(modelsFolder, "ResNet18Onnx", "ResNet18.onnx");
        foreach (var p in new[] { prepPath, netPath })
            if (!File.Exists(p))
                throw new QdmInputException($"ResNet-18 ONNX file not found: {p} (it ships with the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1).");

        var options = new SessionOptions { IntraOpNumThreads = Math.Max(1, threads), InterOpNumThreads = 1 };
        var prepModel = WithSymbolicBatch(ModelProto.Parser.ParseFromFile(prepPath), extraOutput: null);
        var netModel = WithSymbolicBatch(ModelProto.Parser.ParseFromFile(netPath), extraOutput: SpatialOutput);
        preprocessInput = prepModel.Graph.Input[0].Name;
        preprocessOutput = prepModel.Graph.Output[0].Name;
        networkInput = netModel.Graph.Input.Single(i => netModel.Graph.Initializer.All(init => init.Name != i.Name)).Name;
        preprocess = new InferenceSession(prepModel.ToByteArray(), options);
        network = new InferenceSession(netModel.ToByteArray(), options);
    }

    /// <summary>Where the NuGet package's build props copy the models: DnnImageModels/ beside the program.</summary>
    public static string DefaultModelsFolder => Path.Combine(AppContext.BaseDirectory, "DnnImageModels");

    /// <summary>Makes dimension 0 of every input and output symbolic ("N") and exposes one intermediate tensor.</summary>
    private static ModelProto WithSymbolicBatch(ModelProto model, string? extraOutput)
    {
        var graph = model.Graph;
        if (extraOutput is not null && graph.Output.All(o => o.Name != extraOutput))
        {
            var info = graph.ValueInfo.FirstOrDefault(v => v.Name == extraOutput)
                ?? throw new InvalidDataException($"ResNet18.onnx has no tensor {extraOutput}; is it the 0.23.1 package's file?");
            graph.Output.Add(info.Clone());
        }
        graph.ValueInfo.Clear();   // intermediate shapes were recorded for batch 1; ONNX Runtime infers them again
        graph.SetDim(0, DimParamOrValue.New("N"));
        return model;
    }

    public FeatureBatch Extract(Tensor uint8Nhwc)
    {
        if (uint8Nhwc.dtype != ScalarType.Byte || uint8Nhwc.dim() != 4 || uint8Nhwc.shape[3] != 3)
            throw new ArgumentException($"ResNet-18 needs uint8 N×H×W×3 images, got {uint8Nhwc.dtype} [{string.Join(",", uint8Nhwc.shape)}].");
        long n = uint8Nhwc.shape[0];
        float[] input;
        using (var scope = NewDisposeScope())
        {
            var x = uint8Nhwc.permute(0, 3, 1, 2).to(ScalarType.Float32);   // RGB, 0..255
            x = F.interpolate(x, size: new long[] { InputSize, InputSize }, mode: InterpolationMode.Bilinear, align_corners: false).contiguous();
            input = x.data<float>().ToArray();
        }
        var shape = new long[] { n, 3, InputSize, InputSize };
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var prepared = preprocess.Run(new RunOptions(), new[] { preprocessInput }, new[] { inputValue }, new[] { preprocessOutput });
        using var outputs = network.Run(new RunOptions(), new[] { networkInput }, new[] { prepared[0] }, new[] { PooledOutput, SpatialOutput });
        var pooled = tensor(outputs[0].GetTensorDataAsSpan<float>().ToArray(), new long[] { n, PooledSize });
        using var map = tensor(outputs[1].GetTensorDataAsSpan<float>().ToArray(), new long[] { n, 256, SpatialSide, SpatialSide });
        var spatial = map[.., ..SpatialChannels].permute(0, 2, 3, 1).reshape(n, -1);   // NHWC [..., :7] flattened, as ADM does for sFID
        return new FeatureBatch(pooled, spatial, null);
    }

    public void Dispose()
    {
        preprocess.Dispose();
        network.Dispose();
    }
}
