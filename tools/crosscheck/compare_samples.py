"""Image-by-image agreement of two uint8 NHWC sample sets (.npz with arr_0, e.g. Qdm's and a reference's).

python3 tools/crosscheck/compare_samples.py A.npz B.npz [--json OUT.json]
Needs numpy only. Images are matched by position; a Qdm samples.npz is in image-index order.
"""
import argparse
import json

import numpy as np


def agreement(a: np.ndarray, b: np.ndarray) -> dict:
    if a.shape != b.shape:
        raise SystemExit(f"shapes differ: {a.shape} vs {b.shape}")
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
    per_image_max = diff.reshape(len(diff), -1).max(axis=1)
    return {
        "images": int(len(diff)),
        "pixels_equal": float((diff == 0).mean()),
        "pixels_off_by_1": float((diff == 1).mean()),
        "pixels_off_by_more": float((diff > 1).mean()),
        "max_abs_diff": int(diff.max()),
        "mean_abs_diff": float(diff.mean()),
        "images_identical": int((per_image_max == 0).sum()),
        "images_max_diff_le_1": int((per_image_max <= 1).sum()),
        "images_max_diff_gt_8": int((per_image_max > 8).sum()),
        "worst_images": [int(i) for i in np.argsort(-per_image_max, kind="stable")[:5]],
        "worst_image_max_diff": [int(v) for v in np.sort(per_image_max)[::-1][:5]],
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--json")
    args = p.parse_args()
    result = agreement(np.load(args.a)["arr_0"], np.load(args.b)["arr_0"])
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
