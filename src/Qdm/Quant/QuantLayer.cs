using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Qdm.Quant;

/// <summary>
/// A Conv1d/Conv2d/Linear with fake-quantized weight and optional quantizers on the tensor it consumes (input) and the
/// tensor it produces (output). The original parameters keep their names ("weight", "bias"), so state dicts still match.
/// With a split (decoder shortcut on the concat [h, skip]), the input channels before and after the split have their own
/// activation quantizers and their own weight quantizers over the matching weight columns (Q-Diffusion's split).
/// </summary>
public sealed class QuantLayer : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> original;
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly int? split;

    /// <summary>Bias rounded to the int32 grid s_x·s_w (per output channel) as integer kernels hold it.</summary>
    public bool IntegerBias { get; init; }
    public UniformQuantizer[] WeightQuantizers { get; }
    public UniformQuantizer[] InputQuantizers { get; }
    public UniformQuantizer? OutputQuantizer { get; }
    public string Path { get; }

    /// <param name="weightSpec">Weight quantizer (per output channel typically); calibrated here from the weight.</param>
    /// <param name="inputSpec">Quantizer for the consumed tensor, or null.</param>
    /// <param name="outputSpec">Quantizer for the produced tensor, or null.</param>
    /// <param name="split">Input channel where the second half of a concat starts, or null.</param>
    public QuantLayer(string path, nn.Module<Tensor, Tensor> original, QuantizerSpec weightSpec, QuantizerSpec? inputSpec,
        QuantizerSpec? outputSpec, int? split = null) : base(nameof(QuantLayer))
    {
        Path = path;
        this.original = original;
        (weight, bias) = original switch
        {
            Convolution c => (c.weight!, c.bias),
            Linear l => (l.weight!, l.bias),
            _ => throw new ArgumentException($"{path}: only Conv1d, Conv2d and Linear can be quantized, found {original.GetType().Name}."),
        };
        this.split = split;
        register_parameter("weight", weight);
        if (bias is not null) register_parameter("bias", bias);

        var parts = split is { } s ? new[] { (Name: "a", From: 0L, To: (long)s), (Name: "b", From: (long)s, To: weight.shape[1]) }
                                   : new[] { (Name: "", From: 0L, To: weight.shape[1]) };
        WeightQuantizers = parts.Select(p => new UniformQuantizer(weightSpec, $"{path}.weight{Suffix(p.Name)}")).ToArray();
        using (no_grad())
            for (int i = 0; i < parts.Length; i++)
                WeightQuantizers[i].CalibrateFrom(weight[.., TensorIndex.Slice(parts[i].From, parts[i].To)]);
        InputQuantizers = inputSpec is null ? Array.Empty<UniformQuantizer>()
            : parts.Select(p => new UniformQuantizer(inputSpec, $"{path}.input{Suffix(p.Name)}")).ToArray();
        OutputQuantizer = outputSpec is null ? null : new UniformQuantizer(outputSpec, $"{path}.output");

        for (int i = 0; i < WeightQuantizers.Length; i++) register_module($"weight_quantizer{Suffix(parts[i].Name, "_")}", WeightQuantizers[i]);
        for (int i = 0; i < InputQuantizers.Length; i++) register_module($"input_quantizer{Suffix(parts[i].Name, "_")}", InputQuantizers[i]);
        if (OutputQuantizer is not null) register_module("output_quantizer", OutputQuantizer);
    }

    private static string Suffix(string name, string separator = ".") => name.Length == 0 ? "" : separator + name;

    /// <summary>The bias on the int32 grid s_x·s_w[c] when one input and one weight quantizer define it; otherwise the bias.</summary>
    public Tensor? GridBias()
    {
        if (bias is null || InputQuantizers.Length != 1 || WeightQuantizers.Length != 1) return bias;
        var (x, w) = (InputQuantizers[0], WeightQuantizers[0]);
        if (!x.Enabled || !x.IsCalibrated || !w.Enabled || !w.IsCalibrated || !w.Spec.PerChannel || x.Spec.PassThrough || w.Spec.PassThrough) return bias;
        var scale = w.Delta.detach() * x.Delta.detach();
        return (bias.detach() / scale).round() * scale;
    }

    /// <summary>Switches every weight quantizer of this layer to AdaRound, starting from its weight slice.</summary>
    public IReadOnlyList<AdaRound> StartAdaRound()
    {
        var slices = WeightSlices();
        return WeightQuantizers.Select((q, i) => q.Rounding ?? q.StartAdaRound(slices[i])).ToList();
    }

    private Tensor[] WeightSlices() => split is { } s ? weight.split(new long[] { s, weight.shape[1] - s }, 1) : new[] { (Tensor)weight };

    /// <summary>Adds each weight quantizer's error on its own weight slice to its probe.</summary>
    public void MeasureWeights(IReadOnlyDictionary<UniformQuantizer, ErrorProbe> probes)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var slices = WeightSlices();
        for (int i = 0; i < WeightQuantizers.Length; i++)
            if (probes.TryGetValue(WeightQuantizers[i], out var probe) && WeightQuantizers[i].IsCalibrated)
                probe.Add(slices[i], WeightQuantizers[i].call(slices[i]));
    }

    public Tensor Weight => weight;
    public Tensor? Bias => bias;
    public int? SplitAt => split;

    /// <summary>The weight as the forward pass uses it (fake-quantized slice by slice).</summary>
    public Tensor QuantizedWeight()
    {
        using var _ = no_grad();
        var slices = WeightSlices();
        return cat(slices.Select((w, i) => WeightQuantizers[i].call(w)).ToArray(), 1);
    }

    /// <summary>The FP module this layer wraps (its weight tensor is shared, not copied).</summary>
    public nn.Module<Tensor, Tensor> Original => original;

    private double[]? weightErrorSum;   // per output channel, over every element measured
    private long weightErrorCount;

    /// <summary>
    /// While set, each forward also accumulates the output of the weight error alone, F(x_q, W_q − W), per output channel
    /// (x_q the tensor the layer consumes), for <see cref="CorrectBias"/>.
    /// </summary>
    public bool MeasuringWeightBias { get; set; }

    /// <summary>
    /// Empirical bias correction (Nagel et al. 2019, §4.2): rounded weights shift every output channel's mean by
    /// E[(W_q − W)·x], a consistent offset that zero-mean rounding noise does not have; subtracts the mean measured while
    /// <see cref="MeasuringWeightBias"/> was set. Returns false (and changes nothing) without a bias or measurements.
    /// </summary>
    public bool CorrectBias()
    {
        bool corrected = bias is not null && weightErrorSum is not null && weightErrorCount > 0;
        if (corrected)
            using (no_grad())
            using (var shift = tensor(weightErrorSum!.Select(v => v / weightErrorCount).ToArray()).to(bias!.dtype))
                bias!.sub_(shift);
        (weightErrorSum, weightErrorCount) = (null, 0);
        return corrected;
    }

    private void AccumulateWeightBias(Tensor input, Tensor w)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var error = Apply(input, w - weight, null);
        long channelAxis = original is Linear ? error.dim() - 1 : 1;
        var perChannel = error.movedim(new[] { channelAxis }, new[] { -1L }).reshape(-1, error.shape[channelAxis]).to(ScalarType.Float64);
        var sum = perChannel.sum(new long[] { 0 }).data<double>().ToArray();   // not sum(0): a literal 0 binds to sum(ScalarType)
        weightErrorSum ??= new double[sum.Length];
        for (int c = 0; c < sum.Length; c++) weightErrorSum[c] += sum[c];
        weightErrorCount += perChannel.shape[0];
    }

    private Tensor Apply(Tensor input, Tensor w, Tensor? b) => original switch
    {
        Conv2d c => F.conv2d(input, w, b, c.stride, c.padding, c.dilation!, c.groups),
        Conv1d c => F.conv1d(input, w, b, c.stride[0], c.padding![0], c.dilation![0], c.groups),
        _ => F.linear(input, w, b),
    };

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor input, w;
        if (split is { } s)
        {
            var xs = x.split(new long[] { s, x.shape[1] - s }, 1);
            input = InputQuantizers.Length > 0 ? cat(new[] { InputQuantizers[0].call(xs[0]), InputQuantizers[1].call(xs[1]) }, 1) : x;
            var ws = weight.split(new long[] { s, weight.shape[1] - s }, 1);
            w = cat(new[] { WeightQuantizers[0].call(ws[0]), WeightQuantizers[1].call(ws[1]) }, 1);
        }
        else
        {
            input = InputQuantizers.Length > 0 ? InputQuantizers[0].call(x) : x;
            w = WeightQuantizers[0].call(weight);
        }
        if (MeasuringWeightBias) AccumulateWeightBias(input, w);
        var y = Apply(input, w, IntegerBias ? GridBias() : bias);
        if (OutputQuantizer is not null) y = OutputQuantizer.call(y);
        return y.MoveToOuterDisposeScope();
    }
}

/// <summary>Two quantizers over the two halves of axis 1 (DI2N's split time embedding: scale and shift).</summary>
public sealed class SplitQuantizer : nn.Module<Tensor, Tensor>
{
    public UniformQuantizer First { get; }
    public UniformQuantizer Second { get; }

    public SplitQuantizer(QuantizerSpec spec, string label) : base(nameof(SplitQuantizer))
    {
        First = new UniformQuantizer(spec, label + ".scale");
        Second = new UniformQuantizer(spec, label + ".shift");
        register_module("scale_quantizer", First);
        register_module("shift_quantizer", Second);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var halves = x.chunk(2, 1);
        return cat(new[] { First.call(halves[0]), Second.call(halves[1]) }, 1).MoveToOuterDisposeScope();
    }
}
