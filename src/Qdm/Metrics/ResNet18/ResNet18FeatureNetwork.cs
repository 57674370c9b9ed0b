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
    private readonly RunOptions runOptions = new();
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
        using var scope = NewDisposeScope();
        var x = uint8Nhwc.permute(0, 3, 1, 2).to(ScalarType.Float32);   // RGB, 0..255
        x = F.interpolate(x, size: new long[] { InputSize, InputSize }, mode: InterpolationMode.Bilinear, align_corners: false).contiguous();
        var shape = new long[] { n, 3, InputSize, InputSize };
        // ONNX Runtime reads the tensor's own memory (no copy); x stays alive until both runs are done.
        using var inputValue = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance,
            Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float, shape, Address(x), x.numel() * sizeof(float));
        using var prepared = preprocess.Run(runOptions, new[] { preprocessInput }, new[] { inputValue }, new[] { preprocessOutput });
        using var outputs = network.Run(runOptions, new[] { networkInput }, new[] { prepared[0] }, new[] { PooledOutput, SpatialOutput });
        var pooled = FromOrt(outputs[0], new long[] { n, PooledSize });
        var map = FromOrt(outputs[1], new long[] { n, 256, SpatialSide, SpatialSide });
        var spatial = map[.., ..SpatialChannels].permute(0, 2, 3, 1).reshape(n, -1);   // NHWC [..., :7] flattened, as ADM does for sFID
        return new FeatureBatch(pooled.MoveToOuterDisposeScope(), spatial.MoveToOuterDisposeScope(), null);
    }

    /// <summary>The address of a CPU tensor's data (native memory: it does not move).</summary>
    private static unsafe IntPtr Address(Tensor t)
    {
        fixed (byte* p = t.bytes) return (IntPtr)p;
    }

    private static Tensor FromOrt(OrtValue value, long[] shape)
    {
        var result = empty(shape, ScalarType.Float32);
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(value.GetTensorDataAsSpan<float>()).CopyTo(result.bytes);
        return result;
    }

    public void Dispose()
    {
        runOptions.Dispose();
        preprocess.Dispose();
        network.Dispose();
    }
}
