"""Fill quality and speed of every inpainting backend, on holes carved into real photos.

Holes of several shapes and sizes are cut into 128x128 crops of ``skimage.data`` photos, where
the true background is known; every backend fills the *same* holes in one run. Reported per
hole kind:

- **PSNR** (dB, 0-255 scale) of the mean squared error over all hole pixels of the batch
  (pooled: a per-image mean would be dominated by the few holes in flat sky that any method
  fills almost exactly);
- **SSIM** (``skimage.metrics.structural_similarity``, 7x7 windows, ``data_range=255``) over
  each hole's bounding box, averaged over images. The box also holds untouched pixels around
  a non-rectangular hole, which raises every backend's SSIM alike; for rectangles it is
  exactly the hole;
- **images/s** for the whole batch (uint8 ``(N, 3, 128, 128)`` on the CPU), all methods timed
  round-robin in the same run (``common.measure_interleaved``).

Target (issue 5): the fast torch backend's PSNR >= OpenCV Telea's on the same holes.

    python benchmarks/_fill_quality.py --threads 1  # results/placement_fill.{json,md,png}
                                                    # and docs/img/placement_fill.png
    python benchmarks/_fill_quality.py --redraw     # both PNGs from the committed JSON
    python benchmarks/_fill_quality.py --quick    # smoke run
    python benchmarks/placement.py --suite fill   # the same, from the placement suite
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from common import (
    RESULTS,
    Measurement,
    environment,
    measure_interleaved,
    read_results,
    write_results,
)

from shiftaug.harness.sources import load_digits, texture_bank
from shiftaug.inpaint import get_inpainter

__all__ = ["METHODS", "hole_masks", "photos", "run_fill_quality"]

SIZE, SEED = 128, 0
PHOTOS = ("astronaut", "camera", "chelsea", "coffee", "rocket", "coins", "brick", "grass")
# hole kind -> (shape, size in pixels): squares of side s; a horse silhouette of height s;
# an MNIST digit's strokes scaled to s x s.
HOLES = {
    "rect16": ("rect", 16),
    "rect40": ("rect", 40),
    "rect64": ("rect", 64),
    "horse48": ("horse", 48),
    "horse80": ("horse", 80),
    "digit56": ("digit", 56),
}
# method -> (backend name, options). The first entry is the fast torch backend the target
# refers to; the harmonic variants show what converging further buys over the default single
# cycle (4 cycles of 2 sweeps are 0.02 grey levels from the exact solution on average, 1.1 at
# worst: benchmarks/harmonic_accuracy.py).
METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    "harmonic": ("harmonic", {}),
    "harmonic (cycles=2, sweeps=2)": ("harmonic", {"cycles": 2, "sweeps": 2}),
    "harmonic (cycles=4, sweeps=2)": ("harmonic", {"cycles": 4, "sweeps": 2}),
    "pull_push": ("pull_push", {}),
    "telea (OpenCV)": ("telea", {"radius": 3}),
    "navier_stokes (OpenCV)": ("navier_stokes", {"radius": 3}),
    "blur": ("blur", {}),
    "mean": ("mean", {}),
    "constant (128)": ("constant", {"value": 128}),
}
FAST, REFERENCE = "harmonic", "telea (OpenCV)"


def photos(count: int) -> torch.Tensor:
    """``count`` random 128x128 crops of :data:`PHOTOS` as uint8 ``(count, 3, 128, 128)``."""
    generator = torch.Generator().manual_seed(SEED)
    crops = texture_bank(count, SIZE, generator=generator, photos=PHOTOS)
    return (crops * 255).round().to(torch.uint8)


def _horse() -> torch.Tensor:
    """The horse silhouette of ``skimage.data.horse()``, cropped to its box, ``(h, w)`` bool."""
    import skimage.data

    silhouette = torch.from_numpy(~skimage.data.horse())
    rows, cols = silhouette.any(1).nonzero(), silhouette.any(0).nonzero()
    return silhouette[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _shape(kind: str, size: int, index: int) -> torch.Tensor:
    """One hole stamp, ``(h, w)`` bool."""
    if kind == "rect":
        return torch.ones(size, size, dtype=torch.bool)
    if kind == "horse":
        horse = _horse().float()[None, None]
        width = round(size * horse.shape[-1] / horse.shape[-2])
        return torch.nn.functional.interpolate(horse, size=(size, width))[0, 0] > 0.5
    masks = load_digits("mnist")[1]
    digit = masks[index % len(masks)].float()[None]
    return torch.nn.functional.interpolate(digit, size=(size, size))[0, 0] > 0.5


def hole_masks(kind: str, size: int, count: int) -> torch.Tensor:
    """``(count, 1, 128, 128)`` bool: one stamp per image at a seeded random position."""
    rng = np.random.default_rng(SEED + size)
    holes = torch.zeros(count, 1, SIZE, SIZE, dtype=torch.bool)
    for i in range(count):
        stamp = _shape(kind, size, i)
        top = int(rng.integers(0, SIZE - stamp.shape[0] + 1))
        left = int(rng.integers(0, SIZE - stamp.shape[1] + 1))
        holes[i, 0, top : top + stamp.shape[0], left : left + stamp.shape[1]] = stamp
    return holes


def quality(filled: torch.Tensor, truth: torch.Tensor, holes: torch.Tensor) -> tuple[float, float]:
    """PSNR over all hole pixels of the batch and mean SSIM over the hole boxes (module doc)."""
    from skimage.metrics import structural_similarity

    mask = holes.expand_as(truth)
    error = filled[mask].double() - truth[mask].double()
    psnr = 10 * float(torch.log10(255**2 / (error**2).mean().clamp_min(1e-10)))
    ssims = []
    for out, ref, hole in zip(filled.numpy(), truth.numpy(), holes[:, 0].numpy(), strict=True):
        rows, cols = np.nonzero(hole)
        box = (slice(None), slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
        ssims.append(
            structural_similarity(out[box], ref[box], data_range=255, channel_axis=0, win_size=7)
        )
    return psnr, float(np.mean(ssims))


def run_fill_quality(
    quick: bool,
    *,
    count: int | None = None,
    repeats: int | None = None,
    methods: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
) -> tuple[list[Measurement], str, dict[str, Any]]:
    """Fill every hole kind with every method; returns measurements, a markdown table, summary.

    ``quick`` uses 8 images and 3 timing repeats instead of 32 and 7; ``count`` and
    ``repeats`` override either; ``methods`` and ``kinds`` pick subsets of :data:`METHODS`
    and :data:`HOLES` (the smoke test runs a few of each on 2 images).
    """
    count = count or (8 if quick else 32)
    repeats = repeats or (3 if quick else 7)
    truth = photos(count)
    fills = {
        name: get_inpainter(METHODS[name][0], **METHODS[name][1]) for name in methods or METHODS
    }
    measurements: list[Measurement] = []
    psnr: dict[str, dict[str, float]] = {name: {} for name in fills}
    ssim: dict[str, dict[str, float]] = {name: {} for name in fills}
    rate: dict[str, dict[str, float]] = {name: {} for name in fills}
    for kind in kinds or HOLES:
        holes = hole_masks(*HOLES[kind], count)
        damaged = truth.masked_fill(holes, 0)  # the backends never see the true background
        for name, fill in fills.items():
            psnr[name][kind], ssim[name][kind] = quality(fill(damaged, holes), truth, holes)
        fns: dict[str, Callable[[], Any]] = {
            name: (lambda fill=fill, x=damaged, h=holes: fill(x, h)) for name, fill in fills.items()
        }
        case = f"{kind} {count}x3x{SIZE}x{SIZE} uint8"
        extras = {name: {"psnr": psnr[name][kind], "ssim": ssim[name][kind]} for name in fills}
        timed = measure_interleaved(
            fns, suite="fill", case=case, items=count, repeats=repeats, warmup=1, extras=extras
        )
        measurements += timed.values()
        for name, measurement in timed.items():
            rate[name][kind] = measurement.items_per_s
    summary = _summary(psnr, ssim, rate, count)
    return measurements, _table(psnr, ssim, rate, summary), summary


def _mean(values: dict[str, float]) -> float:
    return float(np.mean(list(values.values())))


def _summary(psnr: dict, ssim: dict, rate: dict, count: int) -> dict[str, Any]:
    kinds = list(next(iter(psnr.values())))
    summary: dict[str, Any] = {
        "images": count,
        "photos": list(PHOTOS),
        "holes": {kind: list(HOLES[kind]) for kind in kinds},
        "torch_threads": torch.get_num_threads(),
        "load_average_1min": os.getloadavg()[0],
        "psnr_db": psnr,
        "ssim": ssim,
        "images_per_s": rate,
    }
    if FAST in psnr and REFERENCE in psnr:
        fast, reference = _mean(psnr[FAST]), _mean(psnr[REFERENCE])
        summary["target"] = {
            "rule": f"mean PSNR of {FAST!r} >= mean PSNR of {REFERENCE!r} over the hole kinds",
            "fast_psnr_db": fast,
            "reference_psnr_db": reference,
            "difference_db": fast - reference,
            "ratio": fast / reference,
            "difference_db_per_kind": {k: psnr[FAST][k] - psnr[REFERENCE][k] for k in kinds},
            "pass": fast >= reference,
        }
    return summary


def _section(title: str, values: dict[str, dict[str, float]], fmt: str, mean: bool) -> list[str]:
    kinds = list(next(iter(values.values())))
    header = ["method", *kinds, *(["mean"] if mean else [])]
    lines = [title, "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for name, per_kind in values.items():
        cells = [format(per_kind[kind], fmt) for kind in kinds]
        cells += [format(_mean(per_kind), fmt)] if mean else []
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _table(psnr: dict, ssim: dict, rate: dict, summary: dict[str, Any]) -> str:
    lines = [
        f"{summary['images']} crops of 128x128 from skimage photos ({', '.join(PHOTOS)}), uint8; "
        f"the same holes for every method; torch threads {summary['torch_threads']}, "
        f"1-minute load average {summary['load_average_1min']:.1f} on "
        f"{os.cpu_count()} cores.",
        "",
        *_section("PSNR over the hole pixels (dB, higher is better):", psnr, ".2f", True),
        *_section("SSIM over the hole's bounding box (higher is better):", ssim, ".3f", True),
        *_section("Speed, images/s (median of interleaved repeats, CPU):", rate, ".0f", False),
    ]
    target = summary.get("target")
    if target:
        lines.append(
            f"- fill target: {'PASS' if target['pass'] else 'FAIL'}, {FAST} "
            f"{target['fast_psnr_db']:.2f} dB vs {REFERENCE} {target['reference_psnr_db']:.2f} dB "
            f"mean PSNR (ratio {target['ratio']:.3f}, {target['difference_db']:+.2f} dB; "
            "target: ratio >= 1)"
        )
    return "\n".join(lines)


def plot(summary: dict[str, Any], path: Any) -> None:
    """PSNR against speed, one marker per method (means over the hole kinds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.5, 4.5))
    markers = "os^Dv<>Px*"
    for index, name in enumerate(summary["psnr_db"]):
        speed = _mean(summary["images_per_s"][name])
        quality_db = _mean(summary["psnr_db"][name])
        ax.scatter(speed, quality_db, marker=markers[index % len(markers)], s=60, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("images / s, 128x128 uint8 batch on CPU (mean over hole kinds, log scale)")
    ax.set_ylabel("PSNR in the hole, dB (mean over hole kinds)")
    threads = summary.get("torch_threads")
    where = f", {threads} torch thread(s)" if threads else ""
    ax.set_title(f"Inpainting backends: quality vs speed (same holes, same run{where})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def redraw() -> list[Any]:
    """Both copies of the figure, drawn from the committed ``results/placement_fill.json``."""
    summary = read_results(RESULTS / "placement_fill.json")[1]["summary"]
    paths = [
        RESULTS / "placement_fill.png",
        RESULTS.parents[1] / "docs" / "img" / "placement_fill.png",
    ]
    for path in paths:
        plot(summary, path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="8 images, 3 repeats (smoke run)")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's own choice)"
    )
    parser.add_argument(
        "--redraw", action="store_true", help="only redraw the figures from placement_fill.json"
    )
    args = parser.parse_args(argv)
    if args.redraw:
        print(f"wrote {', '.join(str(p) for p in redraw())}")
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    measurements, table, summary = run_fill_quality(args.quick)
    print(table)
    write_results("placement_fill", measurements, table, summary=summary)
    redraw()
    print(f"environment: {environment()['platform']}, torch {torch.__version__}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
