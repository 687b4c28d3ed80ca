"""Placement: relocation and copy-paste throughput against per-image references; fill quality.

Suites (``--suite``):

- ``relocate``: ``RandomRelocate`` on a batch of 64 scenes of 128x128 (one object moved per
  image, uniform policy, the default anti-aliased paste and 1-pixel hole margin), with our
  batched fill backends on the whole image and in windows around the holes
  (``fill_context=16``), plus the exact mode (``blend="hard", hole_margin=0``, what the per-image
  reference does) for the fast fills in windows, against the per-image
  pipeline people write today: OpenCV Telea (``cv2.inpaint``) + NumPy paste + boxes from masks,
  tensor <-> uint8 HWC conversion included (OpenCV needs it).
- ``copypaste``: ``CopyPaste`` (1-3 objects from a partner image, same location, occlusion
  bookkeeping; the hard paste the reference does, and the default anti-aliased one) against a
  per-image NumPy Simple Copy-Paste written from Ghiasi et al.'s algorithm, given NumPy arrays
  (no conversion cost charged to it). The target compares like with like (hard pastes).
- ``fill``: fill quality (PSNR/SSIM in the hole) and speed of every inpainting backend, from
  ``benchmarks/_fill_quality.py`` (the inpainting suite).
- ``defaults``: what the 0.2 defaults cost (``blend="antialias"``, ``hole_margin=1``) next to
  the exact mode (``blend="hard"``, ``hole_margin=0``), in CPU time per batch on one thread
  (``time.process_time``, interleaved: less sensitive to a busy machine than wall time).
- ``throughput``: ``relocate`` and ``copypaste``; ``all``: everything.

All methods of a suite are timed in one run, interleaved round by round (a busy spell on the
shared machine slows every method of that round alike). Targets from issue 5 are printed as
PASS/FAIL with the measured ratio. Results: ``results/placement.{json,md,png}``.

    python benchmarks/placement.py               # all suites
    python benchmarks/placement.py --quick       # smoke run
    python benchmarks/placement.py --redraw      # placement.png from the committed JSON
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from common import RESULTS, Measurement, environment, plot_spread, read_results, sync, write_results

import shiftaug
from shiftaug.harness.scenes import Scenes, make_scenes

BATCH, SIZE, SEED = 64, 128, 0
CONTEXT = 16  # fill_context of the windowed-fill rows
TARGETS = {"relocate": 2.0, "copypaste": 3.0}


def interleaved(
    fns: dict[str, Callable[[], Any]], *, suite: str, items: int, repeats: int, warmup: int = 2
) -> list[Measurement]:
    """Median-of-repeats timing, every method once per round (kornia's methodology)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            sync()
            times[name].append((time.perf_counter() - start) * 1e3)
    case = f"{BATCH}x3x{SIZE}x{SIZE} float32"
    return [Measurement(suite, case, name, t, items) for name, t in times.items()]


# ----------------------------------------------------------------------------- relocation


def opencv_relocate(
    images: torch.Tensor, masks: torch.Tensor, valid: torch.Tensor, rng: np.random.Generator
) -> tuple[torch.Tensor, list[np.ndarray], list[np.ndarray]]:
    """Per-image relocation as done today: Telea fill, NumPy paste, boxes from the masks."""
    import cv2

    out_images, out_masks, out_boxes = [], [], []
    for image, objects, alive in zip(images, masks.numpy(), valid.numpy(), strict=True):
        photo = np.ascontiguousarray(
            (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        )
        objects = objects.copy()
        k = int(rng.choice(np.flatnonzero(alive)))
        mask = objects[k]
        rows, cols = np.nonzero(mask)
        top, left, bottom, right = rows.min(), cols.min(), rows.max() + 1, cols.max() + 1
        filled = cv2.inpaint(photo, mask.astype(np.uint8), 3, cv2.INPAINT_TELEA)
        new_top = int(rng.integers(0, photo.shape[0] - (bottom - top) + 1))
        new_left = int(rng.integers(0, photo.shape[1] - (right - left) + 1))
        patch = mask[top:bottom, left:right]
        region = filled[new_top : new_top + bottom - top, new_left : new_left + right - left]
        region[patch] = photo[top:bottom, left:right][patch]
        moved = np.zeros_like(mask)
        moved[new_top : new_top + bottom - top, new_left : new_left + right - left] = patch
        objects[k] = moved
        others = np.arange(len(objects)) != k
        objects[others] &= ~moved
        boxes = np.zeros((len(objects), 4), np.float32)
        for i, obj in enumerate(objects):
            r, c = np.nonzero(obj)
            if len(r):
                boxes[i] = c.min(), r.min(), c.max() + 1, r.max() + 1
        out_images.append(torch.from_numpy(filled).permute(2, 0, 1).float() / 255)
        out_masks.append(objects)
        out_boxes.append(boxes)
    return torch.stack(out_images), out_masks, out_boxes


def run_relocate(scenes: Scenes, repeats: int) -> tuple[list[Measurement], dict[str, Any]]:
    backends = [
        name
        for name in ("harmonic", "pull_push", "mean", "telea")
        if name in shiftaug.inpaint.available_inpainters()
    ]
    fns: dict[str, Callable[[], Any]] = {}
    for name in backends:
        for context in (None, CONTEXT):
            t = shiftaug.RandomRelocate(
                name, num_objects=1, fill_context=context,
                generator=torch.Generator().manual_seed(SEED),
            )  # fmt: skip
            where = "" if context is None else f", window +{context} px"
            fns[f"shiftaug RandomRelocate ({name} fill{where})"] = lambda t=t: t(
                scenes.images, scenes.masks, scenes.valid
            )
        if name in ("harmonic", "pull_push"):
            exact = shiftaug.RandomRelocate(
                name, num_objects=1, fill_context=CONTEXT, blend="hard", hole_margin=0,
                generator=torch.Generator().manual_seed(SEED),
            )  # fmt: skip
            fns[f"shiftaug RandomRelocate ({name} fill, window +{CONTEXT} px, exact)"] = (
                lambda t=exact: t(scenes.images, scenes.masks, scenes.valid)
            )
    rng = np.random.default_rng(SEED)
    fns["per-image OpenCV Telea + NumPy paste"] = lambda: opencv_relocate(
        scenes.images, scenes.masks, scenes.valid, rng
    )
    results = interleaved(fns, suite="relocate", items=BATCH, repeats=repeats)
    reference = results[-1].items_per_s
    # The target compares fills of at least Telea's quality (see the fill suite): harmonic and
    # pull_push. The same-fill (telea) and cheap-fill (mean) rows are context, not the target.
    matched = [m for m in results if "(harmonic fill" in m.method or "(pull_push fill" in m.method]
    best = max(matched, key=lambda m: m.items_per_s) if matched else None
    ratio = best.items_per_s / reference if best else float("nan")
    ratios = {m.method: m.items_per_s / reference for m in results[:-1]}
    summary = {
        "target": TARGETS["relocate"], "ratio": ratio, "ours": best.method if best else None,
        "pass": ratio >= TARGETS["relocate"], "ratios": ratios,
    }  # fmt: skip
    return results, summary


# ----------------------------------------------------------------------------- copy-paste


def numpy_copy_paste(
    images: np.ndarray,
    masks: np.ndarray,
    valid: np.ndarray,
    rng: np.random.Generator,
    min_area: int = 1,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Simple Copy-Paste (Ghiasi et al. 2021), per image, as written from the paper.

    For each image: take another image of the batch, a random subset of its objects, paste
    them at the same place, subtract the pasted union from the existing masks, drop objects
    left with fewer than ``min_area`` pixels, recompute boxes.
    """
    batch = len(images)
    results = []
    for n in range(batch):
        b = (n + int(rng.integers(1, batch))) % batch
        candidates = np.flatnonzero(valid[b])
        chosen = rng.choice(
            candidates, size=min(int(rng.integers(1, 4)), len(candidates)), replace=False
        )
        image = images[n].copy()
        pasted = masks[b, chosen]
        union = pasted.any(0)
        image[union] = images[b][union]
        kept = masks[n][valid[n]] & ~union
        objects = np.concatenate([kept, pasted])
        objects = objects[objects.sum((1, 2)) >= min_area]
        boxes = np.zeros((len(objects), 4), np.float32)
        for i, obj in enumerate(objects):
            r, c = np.nonzero(obj)
            boxes[i] = c.min(), r.min(), c.max() + 1, r.max() + 1
        results.append((image, objects, boxes))
    return results


def run_copy_paste(scenes: Scenes, repeats: int) -> tuple[list[Measurement], dict[str, Any]]:
    hard, default = (
        shiftaug.CopyPaste(num_objects=(1, 3), generator=torch.Generator().manual_seed(SEED), **kw)
        for kw in ({"blend": "hard"}, {})
    )
    images_hwc = np.ascontiguousarray(scenes.images.permute(0, 2, 3, 1).numpy())
    masks, valid = scenes.masks.numpy(), scenes.valid.numpy()
    rng = np.random.default_rng(SEED)
    fns: dict[str, Callable[[], Any]] = {
        "shiftaug CopyPaste (batched, hard)": lambda: hard(
            scenes.images, scenes.masks, scenes.valid, labels=scenes.labels
        ),
        "shiftaug CopyPaste (batched, antialias: the default)": lambda: default(
            scenes.images, scenes.masks, scenes.valid, labels=scenes.labels
        ),
        "per-image NumPy Simple Copy-Paste": lambda: numpy_copy_paste(
            images_hwc, masks, valid, rng
        ),
    }
    results = interleaved(fns, suite="copypaste", items=BATCH, repeats=repeats)
    ratio = results[0].items_per_s / results[-1].items_per_s
    return results, {
        "target": TARGETS["copypaste"],
        "ratio": ratio,
        "ratio_default_blend": results[1].items_per_s / results[-1].items_per_s,
        "pass": ratio >= TARGETS["copypaste"],
    }


# ----------------------------------------------------------------------------- reporting


def table(measurements: list[Measurement], summaries: dict[str, dict[str, Any]]) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"Batch {BATCH} scenes of {SIZE}x{SIZE} (float32, 1-3 objects each), torch threads "
        f"{torch.get_num_threads()}, 1-minute load average {load:.1f} on {os.cpu_count()} cores; "
        "median of repeats, interleaved.",
        "",
        "| suite | method | ms / batch (median) | IQR ms | images/s |",
        "|---|---|---:|---:|---:|",
    ]
    for m in measurements:
        low, high = m.spread_ms
        lines.append(
            f"| {m.suite} | {m.method} | {m.median_ms:.1f} | {low:.1f}-{high:.1f} | {m.items_per_s:.0f} |"
        )
    lines.append("")
    for suite, summary in summaries.items():
        if "ratio" in summary:
            verdict = "PASS" if summary["pass"] else "FAIL"
            lines.append(
                f"- {suite}: {verdict}, batched / per-image = {summary['ratio']:.2f}x (target >= {summary['target']}x)"
            )
    return "\n".join(lines)


def plot(measurements: list[Measurement], path: Any, threads: int | None = None) -> None:
    """One panel per suite: images/s of every method (median, IQR whiskers) from 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suites = list(dict.fromkeys(m.suite for m in measurements))
    rows = [[m for m in measurements if m.suite == suite] for suite in suites]
    fig, axes = plt.subplots(
        len(suites), 1, figsize=(9, 0.42 * len(measurements) + 1.2 * len(suites) + 0.6),
        height_ratios=[len(r) for r in rows], sharex=True, squeeze=False,
    )  # fmt: skip
    for axis, suite, found in zip(axes[:, 0], suites, rows, strict=True):
        ours = [m.method.startswith("shiftaug") for m in found]
        plot_spread(axis, found, ["tab:blue" if o else "tab:orange" for o in ours], 1.0)
        axis.set_title(f"{suite} ({found[0].case})", fontsize=9)
    axes[-1, 0].set_xlabel("images / s (median of the repeats, whiskers: IQR; higher is better)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in ("tab:blue", "tab:orange")]
    labels = ["shiftaug, batched", "per-image reference"]
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8)
    where = f", {threads} torch thread(s)" if threads else ""
    fig.suptitle(f"Placement throughput on the CPU{where}", fontsize=10)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def redraw(name: str, out: Any = RESULTS) -> Any:
    """Draw ``<out>/<name>.png`` from the committed ``results/<name>.json``."""
    measurements, payload = read_results(RESULTS / f"{name}.json")
    path = out / f"{name}.png"
    plot(measurements, path, payload["environment"].get("torch_threads"))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--suite",
        choices=("relocate", "copypaste", "throughput", "fill", "defaults", "all"),
        default="all",
    )
    parser.add_argument("--quick", action="store_true", help="few repeats (smoke run)")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument(
        "--redraw", action="store_true", help="only redraw results/placement.png from its JSON"
    )
    args = parser.parse_args()
    if args.redraw:
        print(f"wrote {redraw('placement')}")
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    repeats = 3 if args.quick else 11
    measurements: list[Measurement] = []
    summaries: dict[str, dict[str, Any]] = {}
    if args.suite in ("relocate", "copypaste", "throughput", "defaults", "all"):
        scenes = make_scenes(
            BATCH, SIZE, num_objects=(1, 3), generator=torch.Generator().manual_seed(SEED)
        )
    if args.suite in ("relocate", "throughput", "all"):
        results, summaries["relocate"] = run_relocate(scenes, repeats)
        measurements += results
    if args.suite in ("copypaste", "throughput", "all"):
        results, summaries["copypaste"] = run_copy_paste(scenes, repeats)
        measurements += results
    if args.suite == "defaults":
        return run_defaults(scenes, repeats)
    text = table(measurements, summaries) if measurements else ""
    if args.suite in ("fill", "all"):
        text += "\n\n" + run_fill(args.quick, summaries)
    print(text)
    if measurements:
        name = "placement" if not args.threads else f"placement_threads{args.threads}"
        write_results(name, measurements, text, summary=summaries)
        redraw(name)
    print(f"environment: {environment()['platform']}, torch {torch.__version__}")
    return 0


def run_defaults(scenes: Scenes, repeats: int) -> int:
    """CPU time per batch of the defaults and of the exact mode (see the module docstring)."""
    import json
    import statistics

    torch.set_num_threads(1)
    exact = {"blend": "hard", "hole_margin": 0}
    g = torch.Generator().manual_seed
    calls = {
        "RandomRelocate pull_push window, defaults": shiftaug.RandomRelocate(
            "pull_push", fill_context=CONTEXT, generator=g(SEED)
        ),
        "RandomRelocate pull_push window, exact": shiftaug.RandomRelocate(
            "pull_push", fill_context=CONTEXT, generator=g(SEED), **exact
        ),
        "CopyPaste, defaults": shiftaug.CopyPaste(generator=g(SEED)),
        "CopyPaste, exact": shiftaug.CopyPaste(blend="hard", generator=g(SEED)),
    }
    times: dict[str, list[float]] = {name: [] for name in calls}
    for t in calls.values():
        t(scenes.images, scenes.masks, scenes.valid)
    load = os.getloadavg()[0]
    for _ in range(repeats):
        for name, t in calls.items():
            start = time.process_time()
            t(scenes.images, scenes.masks, scenes.valid)
            times[name].append((time.process_time() - start) * 1e3)
    medians = {name: statistics.median(values) for name, values in times.items()}
    lines = [
        f"CPU ms per batch of {BATCH} scenes of {SIZE}x{SIZE} on 1 thread (median of {repeats} "
        f"interleaved repeats; 1-minute load average {load:.1f} -> {os.getloadavg()[0]:.1f}).",
        "", "| call | CPU ms | defaults / exact |", "|---|---:|---:|",
    ]  # fmt: skip
    for name, value in medians.items():
        pair = name.replace("defaults", "exact")
        ratio = f"{value / medians[pair]:.2f}x" if "defaults" in name else ""
        lines.append(f"| {name} | {value:.1f} | {ratio} |")
    text = "\n".join(lines)
    print(text)
    (RESULTS / "placement_defaults.md").write_text(text + "\n")
    results = {"cpu_ms": times, "median_cpu_ms": medians, "load_average_1min": load}
    (RESULTS / "placement_defaults.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


def run_fill(quick: bool, summaries: dict[str, dict[str, Any]]) -> str:
    """The inpainting suite's fill-quality table (its own JSON goes to placement_fill.*)."""
    try:
        from _fill_quality import run_fill_quality
    except ImportError:
        summaries["fill"] = {"skipped": "benchmarks/_fill_quality.py is not available"}
        return "Fill quality: skipped (benchmarks/_fill_quality.py is not available yet)."
    fill_measurements, fill_table, fill_summary = run_fill_quality(quick)
    summaries["fill"] = fill_summary
    write_results("placement_fill", fill_measurements, fill_table, summary=fill_summary)
    return "## Fill quality\n\n" + fill_table


if __name__ == "__main__":
    raise SystemExit(main())
