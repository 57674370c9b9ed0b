"""Times `qdm export`ed U-Nets in stock Python ONNX Runtime, each opened with the session config its metadata names for this CPU.

python3 tools/bench/ort_forward_bench.py A.onnx B.onnx ... [--batch 16] [--threads 1 16] [--repeats 7]
Prints ms per image per forward (min of the repeats after two warm-ups) and each model's speed relative to the first.
Needs numpy, onnx, onnxruntime.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crosscheck"))
from ort_session import session  # noqa: E402


def ms_per_image(session: ort.InferenceSession, batch: int, repeats: int) -> float:
    rng = np.random.default_rng(0)
    feeds = {"x": rng.standard_normal((batch, 3, 32, 32), dtype=np.float32),
             "t": np.linspace(0, 999, batch, dtype=np.float32)}
    for _ in range(2):
        session.run(["out"], feeds)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(["out"], feeds)
        times.append(time.perf_counter() - start)
    return 1000 * min(times) / batch


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("models", nargs="+")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--threads", type=int, nargs="+", default=[1])
    p.add_argument("--repeats", type=int, default=7)
    a = p.parse_args()
    results = []
    for threads in a.threads:
        base = None
        for path in a.models:
            ms = ms_per_image(session(path, threads)[0], a.batch, a.repeats)
            base = base or ms
            results.append({"model": path, "threads": threads, "batch": a.batch, "ms_per_image": round(ms, 3),
                            "speed_vs_first": round(base / ms, 2)})
            print(json.dumps(results[-1]), flush=True)
    print(json.dumps({"onnxruntime": ort.__version__, "results": results}))


if __name__ == "__main__":
    main()
