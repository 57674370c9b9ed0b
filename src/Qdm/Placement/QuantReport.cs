using Qdm.Quant;

namespace Qdm.Placement;

/// <summary>One quantizer's line in a report: where, what, bits, range, step and measured error.</summary>
public sealed record QuantReportRow(string Path, string Role, QuantTensor Tensor, string Spec, int Bits, double RangeLow, double RangeHigh,
    double MeanStep, double Mse, double SqnrDb);

public static class QuantReport
{
    /// <summary>Rows for every quantizer; errors come from the probes (weights are measured on their own tensor).</summary>
    public static IReadOnlyList<QuantReportRow> Build(QuantizedUNet model, IReadOnlyDictionary<UniformQuantizer, ErrorProbe>? probes = null)
    {
        var rows = new List<QuantReportRow>();
        foreach (var e in model.Entries)
        {
            var q = e.Quantizer;
            if (!q.IsCalibrated || q.Spec.PassThrough)
            {
                rows.Add(new QuantReportRow(e.Path, e.Role, e.Tensor, q.Spec.Describe(), q.Spec.Bits, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN));
                continue;
            }
            var delta = q.Delta.data<float>().ToArray();
            var zero = q.ZeroPoint.data<float>().ToArray();
            // A logarithmic grid's Δ is its top level (its lowest non-zero level lies 2^(−q_max/k) below); it has no one step.
            bool log = q.Spec.Grid != QuantGrid.Uniform;
            double low = log ? delta.Min() * Math.Pow(2, -(double)q.Spec.QMax / q.Spec.LevelsPerOctave)
                : Enumerable.Range(0, delta.Length).Min(i => (q.Spec.QMin - zero[i]) * delta[i]);
            double high = log ? delta.Max() : Enumerable.Range(0, delta.Length).Max(i => (q.Spec.QMax - zero[i]) * delta[i]);
            var probe = probes?.GetValueOrDefault(q);
            rows.Add(new QuantReportRow(e.Path, e.Role, e.Tensor, q.Spec.Describe(), q.Spec.Bits, low, high, log ? double.NaN : delta.Average(),
                probe?.Mse ?? double.NaN, probe?.SqnrDb ?? double.NaN));
        }
        return rows;
    }

    /// <summary>Attaches a fresh probe to every quantizer; weights are measured at once on their own weight tensors.</summary>
    public static Dictionary<UniformQuantizer, ErrorProbe> AttachProbes(QuantizedUNet model)
    {
        var probes = new Dictionary<UniformQuantizer, ErrorProbe>();
        foreach (var e in model.Entries)
        {
            var probe = new ErrorProbe();
            probes[e.Quantizer] = probe;
            if (e.Tensor != QuantTensor.Weight) e.Quantizer.Probe = probe;
        }
        foreach (var layer in model.Network.modules().OfType<QuantLayer>()) layer.MeasureWeights(probes);
        return probes;
    }

    public static void DetachProbes(QuantizedUNet model)
    {
        foreach (var e in model.Entries) e.Quantizer.Probe = null;
    }

    public static string ToCsv(IEnumerable<QuantReportRow> rows)
    {
        var sb = new System.Text.StringBuilder("path,role,tensor,quantizer,bits,range_low,range_high,mean_step,mse,sqnr_db\n");
        var c = System.Globalization.CultureInfo.InvariantCulture;
        foreach (var r in rows)
            sb.AppendLine(string.Join(",", r.Path, r.Role, r.Tensor, $"\"{r.Spec}\"", r.Bits.ToString(c), r.RangeLow.ToString("G6", c),
                r.RangeHigh.ToString("G6", c), r.MeanStep.ToString("G6", c), r.Mse.ToString("G6", c), r.SqnrDb.ToString("G4", c)));
        return sb.ToString();
    }
}
