"""Copy-paste at COCO scale: ``CopyPasteCollate`` against per-image Simple Copy-Paste.

Synthetic COCO-like batches: float32 images of 640x640 and 1024x1024 (the size large-scale
jitter trains at), 2-50 instances each (uniform), ``uint8`` instance masks as torchvision's COCO
wrapper gives them, objects of log-uniform size (radius 1-20% of the image side) that overlap
at times; batches of 8 and 16. Methods, on the same samples, in the same run, interleaved
round by round:

- ``shiftaug CopyPasteCollate``: the whole list of samples in one call (its default
  ``threads=1``; with more torch threads, a ``threads=None`` row shows the thread pool's cost).
- ``per-image torch (torchvision references)``: the torchvision detection references'
  ``SimpleCopyPaste`` algorithm re-written for this benchmark: each image takes the objects of
  the previous one, ``image * ~alpha + paste * alpha``, ``masks * ~alpha``, empty masks dropped,
  ``torchvision.ops.masks_to_boxes`` for the originals, the partner's boxes for the pasted,
  ``area = masks.sum``, degenerate boxes dropped (``blending=False``, the paper's finding).
- ``per-image NumPy``: the same, vectorised within each image, on NumPy arrays made beforehand
  (no conversion charged), with the collate's box convention.

Every method pastes the same number of objects per image: all of them (``--objects all``) or a
uniformly random number from 1 to all (``subset``, the collate's default). Before timing, the
outputs are checked against each other (one draw replayed everywhere). The target (issue 13):
on CPU at 1024x1024, >= 3x the per-image torch version (wall clock, interleaved); the CPU time
of each method's calls (all threads) is recorded too, a measure of work that a busy machine
inflates less. Results:
``results/copy_paste_coco.{json,md,png}``; ``--profile`` adds where the time goes.

    python benchmarks/copy_paste_coco.py                # CPU (+ CUDA rows if available)
    python benchmarks/copy_paste_coco.py --threads 1
    python benchmarks/copy_paste_coco.py --quick        # smoke run
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from common import RESULTS, Measurement, environment, measure_interleaved, write_results
from torchvision import ops

from shiftaug.detection import CopyPasteCollate, CopyPasteParams

TARGET = 3.0  # x the per-image torch version, CPU, 1024x1024
SEED = 0
Sample = tuple[torch.Tensor, dict[str, Any]]


def make_samples(batch: int, size: int, instances: tuple[int, int], seed: int) -> list[Sample]:
    """COCO-like samples: ``instances`` objects per image (uniform), ellipses and boxes."""
    generator = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(batch):
        count = int(torch.randint(instances[0], instances[1] + 1, (1,), generator=generator))
        image = torch.rand(3, size, size, generator=generator)
        masks = torch.zeros(count, size, size, dtype=torch.uint8)
        for k in range(count):
            unit = torch.rand(5, generator=generator).tolist()
            radius = size * math.exp(math.log(0.01) + unit[0] * math.log(20))
            ry, rx = radius * (0.5 + unit[1]), radius * (0.5 + unit[2])
            cy, cx = unit[3] * size, unit[4] * size
            y0, y1 = max(int(cy - ry), 0), min(int(cy + ry) + 1, size)
            x0, x1 = max(int(cx - rx), 0), min(int(cx + rx) + 1, size)
            rows = (torch.arange(y0, y1)[:, None] + 0.5 - cy) / ry
            cols = (torch.arange(x0, x1)[None] + 0.5 - cx) / rx
            masks[k, y0:y1, x0:x1] = (rows**2 + cols**2 <= 1).to(torch.uint8)
            if not masks[k].any():
                masks[k, min(int(cy), size - 1), min(int(cx), size - 1)] = 1
        rows_any, cols_any = masks.amax(2) > 0, masks.amax(1) > 0
        index = torch.arange(size, dtype=torch.float32)
        boxes = torch.stack(
            [
                torch.where(cols_any, index, size).amin(1),
                torch.where(rows_any, index, size).amin(1),
                torch.where(cols_any, index, -1).amax(1) + 1,
                torch.where(rows_any, index, -1).amax(1) + 1,
            ],
            1,
        )
        target = {
            "boxes": boxes,
            "labels": torch.randint(1, 91, (count,), generator=generator),
            "masks": masks,
            "area": masks.flatten(1).sum(1).float(),
            "iscrowd": torch.zeros(count, dtype=torch.int64),
            "image_id": len(samples),
        }
        samples.append((image, target))
    return samples


def pick(count: int, rule: str, generator: torch.Generator | None) -> torch.Tensor:
    """Indices of the pasted objects: all, or a uniform number 1..count chosen at random."""
    if rule == "all" or count == 0:
        return torch.arange(count)
    number = int(torch.randint(1, count + 1, (1,), generator=generator))
    return torch.randperm(count, generator=generator)[:number].sort().values


def torch_copy_paste(
    samples: list[Sample],
    rule: str,
    generator: torch.Generator | None,
    rows: list[Any] | None = None,
) -> tuple[list[torch.Tensor], list[dict[str, Any]]]:
    """The torchvision references' algorithm, per image (image ``i`` takes from ``i - 1``)."""
    images, targets = [], []
    for i, (image, target) in enumerate(samples):
        paste_image, paste_target = samples[i - 1]
        count = len(paste_target["masks"])
        if count == 0:
            images.append(image)
            targets.append(target)
            continue
        chosen = pick(count, rule, generator) if rows is None else torch.as_tensor(rows[i])
        paste_masks = paste_target["masks"][chosen]
        alpha = paste_masks.sum(dim=0) > 0
        images.append(image * ~alpha + paste_image * alpha)
        masks = target["masks"] * ~alpha
        nonempty = masks.sum((-1, -2)) > 0
        masks = masks[nonempty]
        out = dict(target)
        out["masks"] = torch.cat([masks, paste_masks])
        out["boxes"] = torch.cat([ops.masks_to_boxes(masks), paste_target["boxes"][chosen]])
        out["labels"] = torch.cat([target["labels"][nonempty], paste_target["labels"][chosen]])
        out["area"] = out["masks"].sum((-1, -2)).to(torch.float32)
        out["iscrowd"] = torch.cat([target["iscrowd"][nonempty], paste_target["iscrowd"][chosen]])
        degenerate = (out["boxes"][:, 2:] <= out["boxes"][:, :2]).any(1)
        if degenerate.any():
            for key in ("boxes", "masks", "labels", "area", "iscrowd"):
                out[key] = out[key][~degenerate]
        targets.append(out)
    return images, targets


def to_numpy(samples: list[Sample]) -> list[dict[str, np.ndarray]]:
    return [
        {
            key: value.numpy()
            for key, value in [("image", image), *target.items()]
            if isinstance(value, torch.Tensor)
        }
        for image, target in samples
    ]


def numpy_copy_paste(
    samples: list[dict[str, np.ndarray]],
    rule: str,
    rng: np.random.Generator,
    rows: list[Any] | None = None,
) -> list[dict[str, np.ndarray]]:
    """The same per image in NumPy (boxes ``[c0, r0, c1 + 1, r1 + 1)``, empty masks dropped)."""
    out = []
    for i, sample in enumerate(samples):
        partner = samples[i - 1]
        count = len(partner["masks"])
        if count == 0:
            out.append(sample)
            continue
        if rows is not None:
            chosen = np.asarray(rows[i], dtype=np.int64)
        elif rule == "all":
            chosen = np.arange(count)
        else:
            chosen = np.sort(rng.choice(count, size=int(rng.integers(1, count + 1)), replace=False))
        pasted = partner["masks"][chosen].view(bool)
        alpha = pasted.any(0)
        image = np.where(alpha, partner["image"], sample["image"])
        masks = sample["masks"].view(bool) & ~alpha
        plane = alpha.size
        keep = np.count_nonzero(masks.reshape(len(masks), plane), axis=1) > 0
        masks = np.concatenate([masks[keep], pasted])
        rows_any, cols_any = masks.any(2), masks.any(1)
        height, width = masks.shape[1:]
        boxes = np.stack(
            [
                cols_any.argmax(1), rows_any.argmax(1),
                width - cols_any[:, ::-1].argmax(1), height - rows_any[:, ::-1].argmax(1),
            ],
            1,
        ).astype(np.float32)  # fmt: skip
        out.append({
            "image": image, "masks": masks.view(np.uint8), "boxes": boxes,
            "labels": np.concatenate([sample["labels"][keep], partner["labels"][chosen]]),
            "area": np.count_nonzero(masks.reshape(len(masks), plane), axis=1).astype(np.float32),
            "iscrowd": np.concatenate([sample["iscrowd"][keep], partner["iscrowd"][chosen]]),
        })  # fmt: skip
    return out


def check_agreement(samples: list[Sample], rule: str) -> dict[str, Any]:
    """Replay one draw (image i takes from i - 1) in every method and compare the outputs."""
    counts = [len(t["masks"]) for _, t in samples]
    generator = torch.Generator().manual_seed(SEED)
    rows = [pick(counts[i - 1], rule, generator).tolist() for i in range(len(samples))]
    chosen = torch.zeros(len(samples), max(counts), dtype=torch.bool)
    for i, picked in enumerate(rows):
        chosen[i, picked] = True
    partner = torch.tensor([(i - 1) % len(samples) for i in range(len(samples))])
    images, targets = CopyPasteCollate()(samples, params=CopyPasteParams(partner, chosen))
    ref_images, ref_targets = torch_copy_paste(samples, rule, None, rows)
    numpy_out = numpy_copy_paste(to_numpy(samples), rule, np.random.default_rng(0), rows)
    slivers = 0
    for n in range(len(samples)):
        ours, ref, npy = targets[n], ref_targets[n], numpy_out[n]
        assert torch.equal(images[n], ref_images[n]), "images differ from the torch reference"
        assert np.array_equal(images[n].numpy(), npy["image"]), "images differ from NumPy"
        assert np.array_equal(ours["masks"].numpy(), npy["masks"]), "masks differ from NumPy"
        assert ours["labels"].tolist() == npy["labels"].tolist()
        assert ours["area"].tolist() == npy["area"].tolist()
        changed = ~torch.tensor(
            [
                torch.equal(b, m)
                for b, m in zip(ours["boxes"], torch.from_numpy(npy["boxes"]), strict=True)
            ]
        )
        # Untouched objects keep their input boxes, which here are their masks' boxes too.
        assert not bool(changed.any()), "boxes differ from NumPy"
        # torchvision's masks_to_boxes ends boxes on the last pixel, so 1-pixel-wide remnants
        # of covered objects get degenerate boxes there and the reference drops them; the
        # rest must agree (pasted objects keep their partner's boxes there, never degenerate).
        wide = ((ours["boxes"][:, 2:] - ours["boxes"][:, :2]) > 1).all(1)
        wide[len(wide) - len(rows[n]) :] = True
        wide |= not rows[n]  # nothing to paste: the reference returns the sample as it came
        slivers += int((~wide).sum())
        assert torch.equal(ours["masks"][wide], ref["masks"]), "masks differ from torch"
        assert ours["labels"][wide].tolist() == ref["labels"].tolist()
    return {"checked_samples": len(samples), "one_pixel_remnants_torchvision_drops": slivers}


def run_case(
    size: int, batch: int, args: argparse.Namespace, device: str
) -> tuple[list[Measurement], dict[str, Any]]:
    samples = make_samples(batch, size, args.instances, SEED + size + batch)
    summary: dict[str, Any] = {"instances": [len(t["masks"]) for _, t in samples]}
    if device == "cpu":
        summary["agreement"] = check_agreement(samples, args.objects)
    else:
        samples = [
            (
                i.to(device),
                {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in t.items()},
            )
            for i, t in samples
        ]
    collate = CopyPasteCollate(args.objects, generator=torch.Generator().manual_seed(SEED))
    generator = torch.Generator().manual_seed(SEED)
    fns: dict[str, Callable[[], Any]] = {
        "shiftaug CopyPasteCollate": lambda: collate(samples),
    }
    if device == "cpu" and torch.get_num_threads() > 1:  # the pool's cost, shown once
        pooled = CopyPasteCollate(
            args.objects, threads=None, generator=torch.Generator().manual_seed(SEED)
        )
        fns["shiftaug CopyPasteCollate(threads=None)"] = lambda: pooled(samples)
    fns |= {
        "per-image torch (torchvision references)": lambda: torch_copy_paste(
            samples, args.objects, generator
        ),
    }
    if device == "cpu":
        arrays, rng = to_numpy(samples), np.random.default_rng(SEED)
        fns["per-image NumPy"] = lambda: numpy_copy_paste(arrays, args.objects, rng)
    case = f"{device} {batch}x3x{size}x{size}"
    results = measure_interleaved(
        fns, suite="copy_paste_coco", case=case, items=batch, device=device,
        warmup=1, repeats=args.repeats, min_time_s=0.0,
    )  # fmt: skip
    ours = results["shiftaug CopyPasteCollate"]
    summary["ratios"] = {name: m.median_ms / ours.median_ms for name, m in results.items()}
    summary["cpu_ms"] = {name: cpu_time_ms(fn, args.cpu_repeats) for name, fn in fns.items()}
    if args.profile:
        summary["profile"] = {
            "shiftaug CopyPasteCollate": profile(fns["shiftaug CopyPasteCollate"]),
            "per-image torch (torchvision references)": profile(
                fns["per-image torch (torchvision references)"]
            ),
        }
        summary["stages"] = stages(fns["shiftaug CopyPasteCollate"])
    return list(results.values()), summary


def cpu_time_ms(fn: Callable[[], Any], repeats: int) -> float:
    """Median process CPU time of a call (all threads): the work, whatever the machine's load."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append((time.process_time() - start) * 1e3)
    return statistics.median(times)


def profile(fn: Callable[[], Any], top: int = 6) -> list[tuple[str, float]]:
    """``(op, share of self CPU time)`` of the ``top`` most expensive torch ops of one call."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        fn()
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events) or 1.0
    return [(e.key, e.self_cpu_time_total / total) for e in events[:top]]


STAGES = {  # the collate's steps (cProfile cumulative time of these functions)
    "parse + move": "parse_samples",
    "union of pasted masks": "_union",
    "pixel counts (area, overlap)": "area_and_overlap",
    "write output masks": "_write_masks",
    "boxes of changed masks": "_boxes",
    "blend images": "_blend",
    "build targets": "build_target",
}


def stages(fn: Callable[[], Any]) -> dict[str, float]:
    """Share of one collate call spent in each of its steps."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = max(
        sum(v[3] for k, v in stats.items() if k[2] == "__call__" and "_collate" in k[0]), 1e-9
    )
    cumulative: dict[str, float] = {}
    for (_, _, name), values in stats.items():
        cumulative[name] = cumulative.get(name, 0.0) + values[3]
    return {label: cumulative.get(name, 0.0) / total for label, name in STAGES.items()}


def table(
    measurements: list[Measurement], summaries: dict[str, dict[str, Any]], args: argparse.Namespace
) -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    lines = [
        f"Objects pasted: {args.objects}; {args.instances[0]}-{args.instances[1]} instances per "
        f"image; float32 images, uint8 masks; torch threads {torch.get_num_threads()}; load "
        f"average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores at the "
        f"end; median of {args.repeats} interleaved repeats.",
        "",
        "| case | method | ms / batch (median) | IQR ms | images/s | per-image time / ours "
        "| CPU ms / batch | CPU time / ours |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measurements:
        low, high = m.spread_ms
        summary = summaries[m.case]
        ratio, cpu = summary["ratios"][m.method], summary["cpu_ms"]
        lines.append(
            f"| {m.case} | {m.method} | {m.median_ms:.0f} | {low:.0f}-{high:.0f} | "
            f"{m.items_per_s:.1f} | {ratio:.2f}x | {cpu[m.method]:.0f} | "
            f"{cpu[m.method] / cpu['shiftaug CopyPasteCollate']:.2f}x |"
        )
    lines.append("")
    for case, summary in summaries.items():
        if "target" in summary:
            verdict = "PASS" if summary["pass"] else "FAIL"
            lines.append(
                f"- {case}: {verdict}, per-image torch / ours = {summary['ratio']:.2f}x "
                f"(target >= {TARGET}x)"
            )
        if "stages" in summary:
            shares = ", ".join(f"{name} {share:.0%}" for name, share in summary["stages"].items())
            lines.append(f"- {case}, the collate's steps: {shares}")
        for method, ops_share in summary.get("profile", {}).items():
            shares = ", ".join(f"{name} {share:.0%}" for name, share in ops_share)
            lines.append(f"- {case}, where {method} spends its time (self CPU): {shares}")
    return "\n".join(lines)


def plot(measurements: list[Measurement], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = list(dict.fromkeys(m.case for m in measurements))
    methods = list(dict.fromkeys(m.method for m in measurements))
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(cases) * len(methods) / 2 + 2.0))
    height = 0.8 / len(methods)
    for j, method in enumerate(methods):
        values = [
            next((m.items_per_s for m in measurements if m.case == c and m.method == method), 0.0)
            for c in cases
        ]
        ax.barh([i + j * height for i in range(len(cases))], values, height, label=method)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(cases))], cases)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("images / s (log scale, higher is better)")
    ax.set_title("Simple Copy-Paste at COCO scale")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[640, 1024])
    parser.add_argument("--batches", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--instances", type=int, nargs=2, default=[2, 50])
    parser.add_argument("--objects", choices=("all", "subset"), default="subset")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cpu-repeats", type=int, default=2, help="calls timed in CPU time")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument(
        "--devices", nargs="+", default=None, help="default: cpu (+ cuda if present)"
    )
    parser.add_argument("--profile", action="store_true", help="add where the time goes")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, two repeats (smoke run)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--name", default="copy_paste_coco")
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.batches, args.instances, args.repeats = [48], [4], [0, 6], 2
        args.cpu_repeats = 1
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = args.devices or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    measurements: list[Measurement] = []
    summaries: dict[str, dict[str, Any]] = {}
    for device in devices:
        for size in args.sizes:
            for batch in args.batches:
                results, summary = run_case(size, batch, args, device)
                if device == "cpu" and size == 1024:
                    ratio = summary["ratios"]["per-image torch (torchvision references)"]
                    summary.update(target=TARGET, ratio=ratio, **{"pass": ratio >= TARGET})
                summaries[results[0].case] = summary
                measurements += results
                print(
                    f"{results[0].case}: "
                    + ", ".join(f"{m.method} {m.median_ms:.0f} ms" for m in results),
                    flush=True,
                )
    text = table(measurements, summaries, args)
    print(text)
    write_results(args.name, measurements, text, summary=summaries, out_dir=args.out)
    if not args.no_plot:
        plot(measurements, args.out / f"{args.name}.png")
    print(f"environment: {environment()['platform']}, torch {torch.__version__}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
