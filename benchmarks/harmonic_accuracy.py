"""How close the multigrid ``harmonic`` fill is to the exact harmonic solution (docs numbers).

Holes of the fill-quality suite (``_fill_quality.py``: squares of 16/40/64 px, horse
silhouettes, MNIST digits) in 128x128 uint8 photo crops. For every hole the exact harmonic
fill is solved with SciPy (sparse direct solve of ``u = mean of the 4 neighbours`` on the
hole, known pixels as boundary values, reflecting image edge: the equation the backend
approximates), and compared with the backend's float fill for several ``cycles``/``sweeps``:

- error to the exact solution in grey levels (0-255): mean over the hole pixels of each hole,
  and the largest over all its pixels;
- residual of the discrete equation, ``|u - mean4(u)|`` on the hole pixels (largest): 0 for an
  exact solution, the property the docs used to claim for the default;
- PSNR against the true photo, per hole, minus the exact fill's PSNR (dB): how much of the
  fill quality the approximation gives away.

Two claims of the docs are measured on the same holes too: ``RandomRelocate(fill_context=16)``
(the fill computed in a window around the hole) against the whole-image fill, and OpenCV's
float path (float images, filled channel by channel) against its uint8 3-channel call.

    python benchmarks/harmonic_accuracy.py      # results/harmonic_accuracy.{json,md}
    python benchmarks/harmonic_accuracy.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
import torch
from _fill_quality import HOLES, hole_masks, photos
from common import RESULTS, environment

from shiftaug.functional import masks_to_boxes
from shiftaug.inpaint import get_inpainter, harmonic_fill
from shiftaug.transforms._relocate import _inpaint_windows

CONFIGS = {"cycles=1, sweeps=1 (default)": (1, 1), "cycles=2, sweeps=2": (2, 2),
           "cycles=4, sweeps=2": (4, 2), "cycles=8, sweeps=2": (8, 2)}  # fmt: skip


def exact_harmonic(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``(C, H, W)`` float64 image with the hole replaced by the exact discrete harmonic fill
    (a neighbour outside the image is the pixel itself: zero normal derivative)."""
    height, width = hole.shape
    ys, xs = np.nonzero(hole)
    index = -np.ones(hole.shape, dtype=np.int64)
    index[ys, xs] = np.arange(len(ys))
    rows, cols, vals = [np.arange(len(ys))], [np.arange(len(ys))], [np.ones(len(ys))]
    rhs = np.zeros((len(ys), image.shape[0]))
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        ny, nx = np.clip(ys + dy, 0, height - 1), np.clip(xs + dx, 0, width - 1)
        inside = hole[ny, nx]
        rows.append(np.nonzero(inside)[0])
        cols.append(index[ny[inside], nx[inside]])
        vals.append(np.full(int(inside.sum()), -0.25))
        np.add.at(rhs, np.nonzero(~inside)[0], 0.25 * image[:, ny[~inside], nx[~inside]].T)
    matrix = scipy.sparse.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(ys), len(ys)),
    )
    out = image.copy()
    out[:, ys, xs] = scipy.sparse.linalg.spsolve(matrix, rhs).reshape(len(ys), -1).T
    return out


def residual(fill: np.ndarray, hole: np.ndarray) -> float:
    """Largest ``|u - mean4(u)|`` over the hole pixels (edges replicated)."""
    padded = np.pad(fill, ((0, 0), (1, 1), (1, 1)), mode="edge")
    mean4 = (
        padded[:, :-2, 1:-1] + padded[:, 2:, 1:-1] + padded[:, 1:-1, :-2] + padded[:, 1:-1, 2:]
    ) / 4
    return float(np.abs(fill - mean4)[:, hole].max())


def psnr(fill: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    error = fill[:, hole] - truth[:, hole]
    return float(10 * np.log10(255**2 / max(float((error**2).mean()), 1e-10)))


def measure(count: int) -> dict[str, Any]:
    truth = photos(count).double()
    per_config: dict[str, dict[str, list[float]]] = {
        name: {"mean_error": [], "max_error": [], "residual": [], "psnr_gap": []}
        for name in CONFIGS
    }
    per_kind: dict[str, dict[str, float]] = {name: {} for name in CONFIGS}
    for kind in HOLES:
        holes = hole_masks(*HOLES[kind], count)
        exact = [exact_harmonic(truth[i].numpy(), holes[i, 0].numpy()) for i in range(count)]
        for name, (cycles, sweeps) in CONFIGS.items():
            filled = harmonic_fill(truth, holes, cycles=cycles, sweeps=sweeps).numpy()
            errors = []
            for i in range(count):
                hole = holes[i, 0].numpy()
                difference = np.abs(filled[i] - exact[i])[:, hole]
                errors.append(float(difference.mean()))
                per_config[name]["mean_error"].append(float(difference.mean()))
                per_config[name]["max_error"].append(float(difference.max()))
                per_config[name]["residual"].append(residual(filled[i], hole))
                gap = psnr(filled[i], truth[i].numpy(), hole) - psnr(
                    exact[i], truth[i].numpy(), hole
                )
                per_config[name]["psnr_gap"].append(gap)
            per_kind[name][kind] = float(np.mean(errors))
    summary: dict[str, Any] = {}
    for name, values in per_config.items():
        gaps = np.array(values["psnr_gap"])
        summary[name] = {
            "mean_error": float(np.mean(values["mean_error"])),
            "worst_hole_mean_error": float(np.max(values["mean_error"])),
            "max_error": float(np.max(values["max_error"])),
            "max_residual": float(np.max(values["residual"])),
            "psnr_gap_db_mean": float(gaps.mean()),
            "psnr_gap_db_min": float(gaps.min()),
            "psnr_gap_db_max": float(gaps.max()),
            "abs_psnr_gap_db_max": float(np.abs(gaps).max()),
            "mean_error_per_kind": per_kind[name],
        }
    return {"holes_per_kind": count, "kinds": {k: list(v) for k, v in HOLES.items()},
            "load_average_1min": os.getloadavg()[0], "configs": summary,
            "window": windows(count), "opencv_float": opencv_float(count)}  # fmt: skip


def _difference(a: torch.Tensor, b: torch.Tensor, holes: torch.Tensor) -> list[float]:
    inside = holes.expand_as(a)
    difference = (a.double() - b.double()).abs()[inside]
    return [float(difference.mean()), float(difference.max())]


def windows(count: int, context: int = 16) -> dict[str, dict[str, list[float]]]:
    """Fill in a window of the hole's box + ``context`` px vs on the whole image (uint8)."""
    truth = photos(count)
    results: dict[str, dict[str, list[float]]] = {}
    for name, (cycles, sweeps) in (("default", (1, 1)), ("cycles=8, sweeps=2", (8, 2))):
        fill = get_inpainter("harmonic", cycles=cycles, sweeps=sweeps)
        rows = {}
        for kind in HOLES:
            holes = hole_masks(*HOLES[kind], count)
            whole = fill(truth, holes)
            boxes = masks_to_boxes(holes[:, 0])[0].long()
            window = _inpaint_windows(fill, truth, holes, boxes, context)
            rows[kind] = _difference(window, whole, holes)
        results[name] = rows
    return results


def opencv_float(count: int) -> dict[str, dict[str, list[float]]]:
    """OpenCV's float path (x / 255, per channel, x 255) vs its uint8 3-channel call."""
    truth = photos(count)
    results: dict[str, dict[str, list[float]]] = {}
    for name in ("telea", "navier_stokes"):
        fill = get_inpainter(name)
        rows = {}
        for kind in HOLES:
            holes = hole_masks(*HOLES[kind], count)
            as_float = fill(truth.float() / 255, holes) * 255
            rows[kind] = _difference(as_float, fill(truth, holes), holes)
        results[name] = rows
    return results


def table(results: dict[str, Any]) -> str:
    lines = [
        f"{results['holes_per_kind']} photo crops x {len(results['kinds'])} hole kinds "
        f"({', '.join(results['kinds'])}); grey levels on the 0-255 scale; the exact fill is "
        "a sparse direct solve of the same discrete equation.",
        "",
        "| cycles, sweeps | mean error | worst hole (mean) | largest pixel error | "
        "largest residual | PSNR - exact PSNR, dB: mean (min, max) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, row in results["configs"].items():
        lines.append(
            f"| {name} | {row['mean_error']:.3f} | {row['worst_hole_mean_error']:.3f} | "
            f"{row['max_error']:.2f} | {row['max_residual']:.3f} | "
            f"{row['psnr_gap_db_mean']:+.3f} ({row['psnr_gap_db_min']:+.2f}, "
            f"{row['psnr_gap_db_max']:+.2f}) |"
        )
    for key, title in (
        ("window", "`fill_context=16` window fill minus whole-image fill (uint8)"),
        ("opencv_float", "OpenCV float path (x / 255 per channel, x 255) minus its uint8 call"),
    ):
        kinds = list(results["kinds"])
        lines += ["", f"{title}, grey levels over the hole pixels, mean / largest:", ""]
        lines += ["| method | " + " | ".join(kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
        for name, rows in results[key].items():
            cells = [f"{rows[k][0]:.3f} / {rows[k][1]:.0f}" for k in kinds]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 crops per hole kind")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = measure(4 if args.quick else 32)
    results["environment"] = environment()
    text = table(results)
    print(text)
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "harmonic_accuracy.json").write_text(json.dumps(results, indent=2) + "\n")
        (RESULTS / "harmonic_accuracy.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
