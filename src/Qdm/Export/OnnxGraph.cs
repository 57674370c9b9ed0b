using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Qdm.Export;

/// <summary>Builds an ONNX graph with the protobuf classes of OnnxSharp: initializers, nodes, typed inputs and outputs.</summary>
public sealed class OnnxGraph
{
    private readonly GraphProto graph = new() { Name = "qdm" };
    private readonly Dictionary<string, int> counters = new();

    public string Fresh(string hint)
    {
        counters[hint] = counters.GetValueOrDefault(hint) + 1;
        return $"{hint}_{counters[hint]}";
    }

    /// <summary>A tensor stored in the model (float32, int8, uint8, int32 or int64).</summary>
    public string Initializer(string hint, Tensor value)
    {
        var name = Fresh(hint);
        var type = value.dtype switch
        {
            ScalarType.Float32 => TensorProto.Types.DataType.Float,
            ScalarType.Int8 => TensorProto.Types.DataType.Int8,
            ScalarType.Byte => TensorProto.Types.DataType.Uint8,
            ScalarType.Int32 => TensorProto.Types.DataType.Int32,
            ScalarType.Int64 => TensorProto.Types.DataType.Int64,
            _ => throw new NotSupportedException($"ONNX initializers of {value.dtype} are not supported."),
        };
        using var contiguous = value.detach().contiguous();
        var proto = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(contiguous.bytes) };
        proto.Dims.AddRange(value.shape);
        graph.Initializer.Add(proto);
        return name;
    }

    public string Ints(params long[] values) => Initializer("ints", tensor(values));
    public string Float(float value) => Initializer("scalar", tensor(value));

    /// <summary>One node with one output; returns the output's name.</summary>
    public string Node(string op, string[] inputs, Dictionary<string, object>? attributes = null, string? hint = null) =>
        NodeMulti(op, inputs, 1, attributes, hint)[0];

    public string[] NodeMulti(string op, string[] inputs, int outputs, Dictionary<string, object>? attributes = null, string? hint = null)
    {
        var node = new NodeProto { OpType = op, Name = Fresh(op) };
        node.Input.AddRange(inputs);
        var names = Enumerable.Range(0, outputs).Select(_ => Fresh(hint ?? op.ToLowerInvariant())).ToArray();
        node.Output.AddRange(names);
        foreach (var (key, value) in attributes ?? new Dictionary<string, object>()) node.Attribute.Add(Attribute(key, value));
        graph.Node.Add(node);
        return names;
    }

    /// <summary>A float input or output with a symbolic batch dimension and fixed other dimensions.</summary>
    public void Input(string name, params long[] dimsAfterBatch) => graph.Input.Add(Value(name, TensorProto.Types.DataType.Float, dimsAfterBatch));

    public void Output(string name, params long[] dimsAfterBatch) => graph.Output.Add(Value(name, TensorProto.Types.DataType.Float, dimsAfterBatch));

    public ModelProto Build(int opset = 17)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "qdm", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    private static ValueInfoProto Value(string name, TensorProto.Types.DataType type, long[] dimsAfterBatch)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        foreach (var d in dimsAfterBatch) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    private static AttributeProto Attribute(string name, object value) => value switch
    {
        long i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        int i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        float f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = f },
        double f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = (float)f },
        string s => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(s) },
        long[] ints => WithInts(name, ints),
        _ => throw new ArgumentException($"unsupported ONNX attribute value {value.GetType().Name}"),
    };

    private static AttributeProto WithInts(string name, long[] ints)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(ints);
        return attribute;
    }
}
