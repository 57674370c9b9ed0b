"""Independent FP sampling of a DDPM checkpoint with the original ermongroup/ddim code.

Runs ddim's own `Model` and `generalized_steps` (imported unmodified from `--ref`, a folder holding
`models/diffusion.py` and `functions/denoising.py` of ermongroup/ddim) on the same per-image x_T as
`qdm sample`, so every image can be compared with Qdm's. Before sampling it checks the imported code
against the oracles (`ddpm_ch32_io.npz`, `ddim_sampling.npz`), so a bad copy of the reference fails here.

Needs PyTorch, numpy and safetensors; `generalized_steps` moves x to 'cuda', so it needs a GPU.
Set ATEN_CPU_CAPABILITY=avx2 to draw x_T with the same kernel as an AVX2 machine (bit-equal noise).

python3 tools/crosscheck/reference_ddim_samples.py --ref REF --oracles DIR \
    --model models/ddpm_cifar10_ch64_ema.fp16.safetensors --ch 64 --count 5000 --seed 0 --steps 100 --out OUT
"""
import argparse
import json
import sys
import time
from types import SimpleNamespace

import numpy as np
import torch
from safetensors.torch import load_file

MASK63 = (1 << 63) - 1
MASK64 = (1 << 64) - 1


def image_seed(seed: int, index: int) -> int:
    """SplitMix64 of (seed, index), as Qdm's PerImageNoise.ImageSeed."""
    z = (seed * 0x9E3779B97F4A7C15 + index + 0x632BE59BD9B4E019) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return (z ^ (z >> 31)) & MASK63


def x_T(seed: int, first: int, count: int) -> torch.Tensor:
    """One CPU generator per image, as Qdm draws x_T (independent of batching)."""
    draws = []
    for i in range(first, first + count):
        g = torch.Generator().manual_seed(image_seed(seed, i))
        draws.append(torch.randn((1, 3, 32, 32), generator=g))
    return torch.cat(draws, 0)


def ddpm_config(ch: int) -> SimpleNamespace:
    """ddim configs/cifar10.yml with the channel width changed."""
    return SimpleNamespace(
        model=SimpleNamespace(type="simple", ch=ch, out_ch=3, ch_mult=[1, 2, 2, 2], num_res_blocks=2,
                              attn_resolutions=[16], dropout=0.1, in_channels=3, resamp_with_conv=True),
        data=SimpleNamespace(image_size=32),
        diffusion=SimpleNamespace(num_diffusion_timesteps=1000))


def load_model(Model, ch: int, path: str, device: str):
    model = Model(ddpm_config(ch))
    state = {k: v.float() for k, v in load_file(path).items()}
    model.load_state_dict(state, strict=True)
    return model.eval().to(device)


def linear_betas(device: str) -> torch.Tensor:
    # ddim runners/diffusion.py get_beta_schedule("linear", 1e-4, 0.02, 1000), then .float()
    return torch.from_numpy(np.linspace(1e-4, 0.02, 1000, dtype=np.float64)).float().to(device)


def to_uint8_nhwc(x: torch.Tensor) -> np.ndarray:
    """floor((x + 1)·127.5 + 0.5) clamped: Qdm's ImageTensors encoding."""
    return ((x + 1) * 127.5 + 0.5).floor().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def oracle_checks(Model, generalized_steps, oracles: str, device: str) -> dict:
    io = np.load(f"{oracles}/ddpm_ch32_io.npz")
    model = load_model(Model, 32, f"{oracles}/ddpm_ch32.safetensors", device)
    with torch.no_grad():
        eps = model(torch.from_numpy(io["x"]).to(device), torch.from_numpy(io["t"]).float().to(device)).cpu()
    eps_err = (eps - torch.from_numpy(io["eps"])).abs().max().item()

    ds = np.load(f"{oracles}/ddim_sampling.npz")
    xs, _ = generalized_steps(torch.from_numpy(ds["x_T"]).to(device), [int(s) for s in ds["seq_uniform_10"]], model,
                              torch.from_numpy(ds["betas_float32"]).to(device), eta=0.0)
    ddim_err = (xs[-1] - torch.from_numpy(ds["eta0_uniform10_final"])).abs().max().item()
    # Oracle tolerances (README of the oracles: f32 vs f64 1.7e-6 for eps, 1.1e-4 for the 10-step final).
    return {"eps_max_abs": eps_err, "eps_ok": eps_err < 1e-4,
            "ddim10_final_max_abs": ddim_err, "ddim10_ok": ddim_err < 1e-3}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--ref", required=True)
    p.add_argument("--oracles", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--ch", type=int, default=64)
    p.add_argument("--count", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--keep-float", type=int, default=512, help="first N images' x_T and float x_0 are saved too")
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="cuda", help="cpu only with a --ref copy whose 'cuda' moves read 'cpu'")
    a = p.parse_args()

    sys.path.insert(0, a.ref)
    from models.diffusion import Model
    from functions.denoising import generalized_steps

    device = a.device
    # Full fp32 arithmetic: no TF32 in convolutions or matrix products.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    try:
        import torch.backends.cpu as cpu_capability
    except ImportError:  # torch < 2.1
        cpu_capability = None
    report = {"torch": torch.__version__,
              "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
              "cpu_capability": cpu_capability.get_cpu_capability() if cpu_capability else "unknown",
              "tf32": False}
    report["oracles"] = oracle_checks(Model, generalized_steps, a.oracles, device)
    print(json.dumps(report), flush=True)
    if not (report["oracles"]["eps_ok"] and report["oracles"]["ddim10_ok"]):
        print("reference code does not reproduce the oracles: stopping", file=sys.stderr)
        return 1

    model = load_model(Model, a.ch, a.model, device)
    betas = linear_betas(device)
    seq = list(range(0, 1000, 1000 // a.steps))
    images, firsts_xT, firsts_x0 = [], [], []
    start = time.time()
    for first in range(0, a.count, a.batch):
        n = min(a.batch, a.count - first)
        xT = x_T(a.seed, first, n)
        xs, _ = generalized_steps(xT.to(device), seq, model, betas, eta=0.0)
        final = xs[-1]
        images.append(to_uint8_nhwc(final))
        if first < a.keep_float:
            firsts_xT.append(xT[: a.keep_float - first])
            firsts_x0.append(final[: a.keep_float - first])
        print(f"sampled {first + n} of {a.count} in {time.time() - start:.1f} s", flush=True)

    report["sampling"] = {"count": a.count, "seed": a.seed, "steps": a.steps, "seq_first_last": [seq[0], seq[-1]],
                          "batch": a.batch, "seconds": round(time.time() - start, 1),
                          "model": a.model, "ch": a.ch}
    np.savez(f"{a.out}/reference_fp_samples.npz", arr_0=np.concatenate(images))
    np.savez(f"{a.out}/reference_fp_float.npz", x_T=torch.cat(firsts_xT).numpy(), x_0=torch.cat(firsts_x0).numpy())
    with open(f"{a.out}/reference_fp.json", "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report["sampling"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
