using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Qdm.IO;

/// <summary>A safetensors file: named tensors plus the optional string metadata map.</summary>
public sealed record SafetensorsContent(Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata);

/// <summary>
/// The safetensors format (huggingface/safetensors): u64-LE header length, JSON header
/// {name: {dtype, shape, data_offsets}, "__metadata__": {..}}, then the tensors' bytes.
/// </summary>
public static class Safetensors
{
    private const long MaxHeaderBytes = 100_000_000;

    public static SafetensorsContent Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"safetensors file not found: {path}", path);
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    public static SafetensorsContent Read(Stream stream, string name)
    {
        var lengthBytes = new byte[8];
        if (stream.ReadAtLeast(lengthBytes, 8, throwOnEndOfStream: false) < 8)
            throw new InvalidDataException($"{name}: file is truncated (no safetensors header).");
        long headerLength = BitConverter.ToInt64(lengthBytes);
        if (headerLength <= 0 || headerLength > MaxHeaderBytes || headerLength > stream.Length - 8)
            throw new InvalidDataException($"{name}: not a safetensors file or truncated (header length {headerLength}, file {stream.Length} bytes).");

        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        JsonObject header;
        try { header = JsonNode.Parse(headerBytes)?.AsObject() ?? throw new JsonException("empty header"); }
        catch (JsonException e) { throw new InvalidDataException($"{name}: unreadable safetensors header: {e.Message}"); }

        long dataStart = 8 + headerLength;
        long dataLength = stream.Length - dataStart;
        var metadata = new Dictionary<string, string>();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (key, node) in header)
        {
            if (key == "__metadata__")
            {
                foreach (var (mk, mv) in node!.AsObject()) metadata[mk] = mv?.GetValue<string>() ?? "";
                continue;
            }
            var info = node!.AsObject();
            var type = ElementTypes.FromSafetensors(info["dtype"]!.GetValue<string>());
            long[] shape = info["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var offsets = info["data_offsets"]!.AsArray().Select(o => o!.GetValue<long>()).ToArray();
            if (offsets[1] > dataLength)
                throw new InvalidDataException($"{name}: tensor '{key}' ends at byte {offsets[1]} but the data section has {dataLength} bytes (truncated file?).");
            var bytes = new byte[offsets[1] - offsets[0]];
            stream.Seek(dataStart + offsets[0], SeekOrigin.Begin);
            stream.ReadExactly(bytes);
            try { tensors[key] = TensorBytes.FromBytes(bytes, type, shape); }
            catch (InvalidDataException e) { throw new InvalidDataException($"{name}: tensor '{key}': {e.Message}"); }
        }
        return new SafetensorsContent(tensors, metadata);
    }

    /// <summary>Writes tensors in sorted-key order (as the reference writer does), atomically.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        var payloads = names.Select(n => TensorBytes.ToBytes(tensors[n])).ToList();

        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal)) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        for (int i = 0; i < names.Count; i++)
        {
            var tensor = tensors[names[i]];
            header[names[i]] = new JsonObject
            {
                ["dtype"] = ElementTypes.ToSafetensors(tensor.dtype),
                ["shape"] = new JsonArray(tensor.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + payloads[i].Length),
            };
            offset += payloads[i].Length;
        }
        var json = header.ToJsonString();
        int padding = (8 - Encoding.UTF8.GetByteCount(json) % 8) % 8;   // data starts 8-byte aligned
        var headerBytes = Encoding.UTF8.GetBytes(json + new string(' ', padding));

        AtomicFile.Write(path, stream =>
        {
            stream.Write(BitConverter.GetBytes((long)headerBytes.Length));
            stream.Write(headerBytes);
            foreach (var payload in payloads) stream.Write(payload);
        });
    }
}
