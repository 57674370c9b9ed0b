using StbImageWriteSharp;
using static TorchSharp.torch;

namespace Qdm.IO;

/// <summary>PNG output of uint8 NHWC image batches, one file per image or a grid.</summary>
public static class Png
{
    /// <summary>Writes one H×W×C uint8 image (C = 1 or 3) atomically.</summary>
    public static void Write(string path, Tensor imageHwc)
    {
        if (imageHwc.dtype != ScalarType.Byte || imageHwc.dim() != 3)
            throw new ArgumentException($"PNG needs a uint8 H×W×C image, got {imageHwc.dtype} [{string.Join(",", imageHwc.shape)}].");
        int h = (int)imageHwc.shape[0], w = (int)imageHwc.shape[1], c = (int)imageHwc.shape[2];
        var components = c switch
        {
            1 => ColorComponents.Grey,
            3 => ColorComponents.RedGreenBlue,
            4 => ColorComponents.RedGreenBlueAlpha,
            _ => throw new ArgumentException($"PNG needs 1, 3 or 4 channels, got {c}."),
        };
        var bytes = TensorBytes.ToBytes(imageHwc);
        AtomicFile.Write(path, stream => new ImageWriter().WritePng(bytes, w, h, components, stream));
    }

    /// <summary>Tiles N×H×W×C uint8 images into a grid with a padding border (torchvision make_grid layout).</summary>
    public static Tensor Grid(Tensor imagesNhwc, int columns = 8, int padding = 2, byte background = 255)
    {
        long n = imagesNhwc.shape[0], h = imagesNhwc.shape[1], w = imagesNhwc.shape[2], c = imagesNhwc.shape[3];
        int cols = (int)Math.Min(columns, n), rows = (int)((n + cols - 1) / cols);
        var grid = full(new long[] { rows * (h + padding) + padding, cols * (w + padding) + padding, c }, background, ScalarType.Byte);
        for (int i = 0; i < n; i++)
        {
            long top = i / cols * (h + padding) + padding, left = i % cols * (w + padding) + padding;
            grid[TensorIndex.Slice(top, top + h), TensorIndex.Slice(left, left + w)] = imagesNhwc[i];
        }
        return grid;
    }
}
