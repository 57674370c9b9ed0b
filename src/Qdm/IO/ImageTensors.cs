using static TorchSharp.torch;

namespace Qdm.IO;

/// <summary>Conversions between model space (float NCHW in [−1, 1]) and uint8 NHWC images.</summary>
public static class ImageTensors
{
    /// <summary>x ∈ [−1, 1] → round((x + 1)·127.5) clamped to 0..255, NHWC (torchvision save_image's rounding).</summary>
    public static Tensor ToUint8Nhwc(Tensor xNchw)
    {
        using var scaled = ((xNchw + 1) * 127.5 + 0.5).floor_().clamp_(0, 255);
        return scaled.permute(0, 2, 3, 1).contiguous().to(ScalarType.Byte);
    }

    /// <summary>uint8 NHWC → float NCHW in [−1, 1] (x/127.5 − 1), the models' input scaling.</summary>
    public static Tensor ToModelSpace(Tensor uint8Nhwc) =>
        (uint8Nhwc.permute(0, 3, 1, 2).to(ScalarType.Float32) / 127.5 - 1).contiguous();
}
