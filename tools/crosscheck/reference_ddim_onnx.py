"""Samples a `qdm export`ed ONNX model (FP32 or quantized QDQ) with stock ONNX Runtime and ermongroup/ddim's sampler.

The network is Qdm's, run by Python ONNX Runtime with the session config stored in the file; the DDIM loop is ddim's own
`generalized_steps` (imported unmodified from `--ref`), and x_T is drawn per image as `qdm sample` draws it. So what
differs from Qdm's own samples of the same model is only the runtime around the graph (and the CPU it runs on).

python3 tools/crosscheck/reference_ddim_onnx.py --ref REF --onnx model.onnx --first 0 --count 256 --seed 0 --steps 100 --out OUT
Needs PyTorch, numpy, onnx, onnxruntime; `generalized_steps` moves x to 'cuda' (use a --ref copy that says 'cpu' on a machine without a GPU).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ort_session import session  # noqa: E402
from reference_ddim_samples import linear_betas, to_uint8_nhwc, x_T  # noqa: E402


class OrtNetwork:
    """model(x, t) for generalized_steps: the ONNX graph on ORT's CPU provider, tensors back on x's device."""

    def __init__(self, path: str, threads: int):
        self.session, self.metadata = session(path, threads)
        self.session_config = self.metadata["session_config_used"]

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = self.session.run(["out"], {"x": x.detach().float().cpu().numpy(), "t": t.detach().float().cpu().numpy()})[0]
        return torch.from_numpy(out).to(x.device)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--ref", required=True)
    p.add_argument("--onnx", required=True)
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--count", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--device", default="cuda")
    p.add_argument("--out", required=True)
    a = p.parse_args()

    sys.path.insert(0, a.ref)
    from functions.denoising import generalized_steps

    network = OrtNetwork(a.onnx, a.threads)
    betas = linear_betas(a.device)
    seq = list(range(0, 1000, 1000 // a.steps))
    name = os.path.splitext(os.path.basename(a.onnx))[0]
    report = {"onnxruntime": ort.__version__, "torch": torch.__version__, "onnx": a.onnx,
              "session_config": network.session_config, "quantization": network.metadata.get("qdm.quantization"),
              "source": network.metadata.get("qdm.source"), "seed": a.seed, "first": a.first, "steps": a.steps,
              "threads": a.threads}
    print(json.dumps(report), flush=True)
    images, start = [], time.time()
    for first in range(a.first, a.first + a.count, a.batch):
        n = min(a.batch, a.first + a.count - first)
        xs, _ = generalized_steps(x_T(a.seed, first, n).to(a.device), seq, network, betas, eta=0.0)
        images.append(to_uint8_nhwc(xs[-1]))
        # Written after every batch, so a run stopped at its time limit still returns what it made.
        np.savez(f"{a.out}/{name}_ort_samples.npz", arr_0=np.concatenate(images))
        report["count"], report["seconds"] = sum(len(i) for i in images), round(time.time() - start, 1)
        with open(f"{a.out}/{name}_ort.json", "w") as f:
            json.dump(report, f, indent=1)
        print(f"sampled {report['count']} of {a.count} in {report['seconds']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
