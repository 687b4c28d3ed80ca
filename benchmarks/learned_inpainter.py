"""The learned inpainter against the classical fills: quality, detectability, speed, training.

Held-out crops (the bottom-right quarters of the scikit-image photos, which no training crop
touches; see ``shiftaug.inpaint.learned.data``) at 64 and 128 px get holes of every kind
(strokes, boxes, object silhouettes never used in training: the last 1000 MNIST digits, the odd
coins, the horse); every method fills the *same* holes. Reported per size and hole kind:

- **PSNR** and **SSIM** exactly as in ``_fill_quality.py`` (pooled hole pixels; SSIM over each
  hole's box);
- **detectability**: a small CNN is trained to tell 32x32 patches of filled images (centred on
  hole pixels) from the same patches of the real images, on the first 60% of the images, and
  scored on the other 40%: 50% means the fill cannot be told from the photo, 100% that it
  always can. Mean and spread over ``--detector-seeds`` independent detectors.
- **speed**: images/s of every method on the same batch, timed round-robin
  (``common.measure_interleaved``), and the learned model's training step time.

Targets (issue 11): the learned fill is the least detectable, and its PSNR at 128 px is at
least harmonic's.

    python benchmarks/learned_inpainter.py              # results/learned_inpainter.{json,md,png}
    python benchmarks/learned_inpainter.py --quick      # smoke run
    python benchmarks/learned_inpainter.py --checkpoint runs/inpainter/inpainter.safetensors
"""

from __future__ import annotations

import argparse
import os
import statistics
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from common import RESULTS, Measurement, environment, measure_interleaved, write_results
from torch import nn

from shiftaug.inpaint import get_inpainter
from shiftaug.inpaint.learned import (
    DEFAULT_MODEL,
    HOLE_KINDS,
    default_shapes,
    load_inpainter_config,
    sample_holes,
)
from shiftaug.inpaint.learned.data import skimage_photos

__all__ = ["METHODS", "detectability", "main", "run"]

SEED = 0
METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    "learned": ("learned", {}),
    "harmonic": ("harmonic", {}),
    "pull_push": ("pull_push", {}),
    "telea (OpenCV)": ("telea", {"radius": 3}),
    "blur": ("blur", {}),
}
PATCH = 32


def held_out(count: int, size: int, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` uint8 held-out crops of ``size`` and holes of ``kind`` (seeded)."""
    g = torch.Generator().manual_seed(SEED + size)
    crops = skimage_photos("eval").crops(count, size, zoom=(1.0, 2.0), generator=g)
    h = torch.Generator().manual_seed(SEED + size + HOLE_KINDS.index(kind) + 1)
    holes = sample_holes(count, size, [kind], shapes=default_shapes("eval"), generator=h)
    return (crops * 255).round().to(torch.uint8), holes


def quality(filled: torch.Tensor, truth: torch.Tensor, holes: torch.Tensor) -> tuple[float, float]:
    """PSNR over the pooled hole pixels and mean SSIM over the holes' boxes (``_fill_quality``'s
    definitions; boxes narrower than SSIM's 7x7 window are widened to 7 inside the image)."""
    from skimage.metrics import structural_similarity

    mask = holes.expand_as(truth)
    error = filled[mask].double() - truth[mask].double()
    psnr = 10 * float(torch.log10(255**2 / (error**2).mean().clamp_min(1e-10)))
    ssims = []
    size = truth.shape[-1]
    for out, ref, hole in zip(filled.numpy(), truth.numpy(), holes[:, 0].numpy(), strict=True):
        rows, cols = np.nonzero(hole)
        box = [slice(None)]
        for low, high in ((rows.min(), rows.max() + 1), (cols.min(), cols.max() + 1)):
            grow = max(0, 7 - (high - low))
            low = max(0, min(low - grow // 2, size - 7))
            box.append(slice(low, max(high, low + 7)))
        ssims.append(structural_similarity(out[tuple(box)], ref[tuple(box)], data_range=255,
                                           channel_axis=0, win_size=7))  # fmt: skip
    return psnr, float(np.mean(ssims))


def _windows(holes: torch.Tensor, per_image: int, g: torch.Generator) -> torch.Tensor:
    """``(N, per_image, 2)`` top-left corners of PATCH windows centred on random hole pixels."""
    size = holes.shape[-1]
    corners = torch.empty(holes.shape[0], per_image, 2, dtype=torch.long)
    for n, hole in enumerate(holes[:, 0]):
        ys, xs = hole.nonzero(as_tuple=True)
        pick = torch.randint(len(ys), (per_image,), generator=g)
        corners[n, :, 0] = (ys[pick] - PATCH // 2).clamp(0, size - PATCH)
        corners[n, :, 1] = (xs[pick] - PATCH // 2).clamp(0, size - PATCH)
    return corners


def _patches(images: torch.Tensor, corners: torch.Tensor) -> torch.Tensor:
    out = [
        images[n, :, y : y + PATCH, x : x + PATCH]
        for n in range(images.shape[0])
        for y, x in corners[n].tolist()
    ]
    patches = torch.stack(out).float() / 255
    return patches - patches.mean((2, 3), keepdim=True)  # texture, not brightness


def _detector(width: int = 16) -> nn.Module:
    def block(cin: int, cout: int, stride: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(
        *block(3, width, 1), *block(width, width, 2), *block(width, 2 * width, 2),
        *block(2 * width, 2 * width, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(2 * width, 1),
    )  # fmt: skip


def detectability(
    cases: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    *,
    seed: int,
    epochs: int = 30,
    per_image: int = 8,
) -> dict[str, float]:
    """Held-out accuracy of a CNN trained to tell filled patches from real ones (0.5 = chance).

    ``cases`` maps a hole kind to ``(real, filled, holes)`` (uint8 images, bool holes). Each
    image gives ``per_image`` 32x32 patches centred on random hole pixels, from the filled image
    (label 1) and the same windows of the real one (label 0). One detector learns from the first
    60% of the images of every kind and is scored on the other 40%, per kind and overall.
    """
    g = torch.Generator().manual_seed(seed)
    train, test = [], {}
    for kind, (real, filled, holes) in cases.items():
        corners = _windows(holes, per_image, g)
        split = int(0.6 * real.shape[0])
        for part, store in ((slice(0, split), None), (slice(split, None), kind)):
            x = torch.cat(
                [_patches(real[part], corners[part]), _patches(filled[part], corners[part])]
            )
            y = torch.cat([torch.zeros(len(x) // 2), torch.ones(len(x) // 2)])
            if store is None:
                train.append((x, y))
            else:
                test[store] = (x, y)
    x, y = (torch.cat(parts) for parts in zip(*train, strict=True))
    torch.manual_seed(seed)
    model = _detector()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = epochs * -(-len(x) // 64)
    # Cosine decay to zero: the final detector is a settled one, not one mid-oscillation.
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=g)
        for start in range(0, len(x), 64):
            batch = order[start : start + 64]
            loss = F.binary_cross_entropy_with_logits(model(x[batch])[:, 0], y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    scores = {}
    with torch.no_grad():
        for kind, (tx, ty) in test.items():
            scores[kind] = float(((model(tx)[:, 0] > 0).float() == ty).float().mean())
    scores["all"] = float(np.mean(list(scores.values())))
    return scores


def _fills(checkpoint: str | None) -> dict[str, Any]:
    fills = {}
    for name, (backend, options) in METHODS.items():
        opts = (
            dict(options, checkpoint=checkpoint) if backend == "learned" and checkpoint else options
        )
        fills[name] = get_inpainter(backend, **opts)
    return fills


def run(
    sizes: list[int],
    count: int,
    detector_seeds: int,
    repeats: int,
    checkpoint: str | None,
    epochs: int,
) -> tuple[list[Measurement], dict[str, Any]]:
    """Every method, size and hole kind: quality, detectability and speed."""
    fills = _fills(checkpoint)
    results: dict[str, Any] = {}
    measurements: list[Measurement] = []
    for size in sizes:
        cases: dict[str, dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]] = {}
        for kind in HOLE_KINDS:
            truth, holes = held_out(count, size, kind)
            damaged = truth.masked_fill(holes, 0)  # no method ever sees the true hole content
            cell = results.setdefault(str(size), {}).setdefault(kind, {})
            for name, fill in fills.items():
                filled = fill(damaged, holes)
                psnr, ssim = quality(filled, truth, holes)
                cell[name] = {"psnr": psnr, "ssim": ssim, "detect": []}
                cases.setdefault(name, {})[kind] = (truth, filled, holes)
            fns = {
                name: (lambda f=fill, x=damaged, h=holes: f(x, h)) for name, fill in fills.items()
            }
            timed = measure_interleaved(
                fns, suite="learned_inpainter", case=f"{kind} {count}x3x{size}x{size} uint8",
                items=count, repeats=repeats, warmup=1,
            )  # fmt: skip
            measurements += timed.values()
            for name, m in timed.items():
                cell[name]["images_per_s"] = m.items_per_s
        for name, by_kind in cases.items():
            for seed in range(detector_seeds):
                scores = detectability(by_kind, seed=seed, epochs=epochs)
                for kind in HOLE_KINDS:
                    results[str(size)][kind][name]["detect"].append(scores[kind])
            for kind in HOLE_KINDS:
                v = results[str(size)][kind][name]
                print(f"{size}px {kind:8s} {name:15s} PSNR {v['psnr']:6.2f}  SSIM {v['ssim']:.3f}  "
                      f"detect {statistics.mean(v['detect']):.3f}", flush=True)  # fmt: skip
    return measurements, results


def training_speed(sizes: list[int], steps: int, device: str = "cpu") -> dict[str, float]:
    """Seconds per training step (critic + generator, the loop only) of the quick preset's
    networks at each size, batch 16, on ``device``."""
    import tempfile

    from shiftaug.inpaint.learned import load_inpainter, train_inpainter

    out: dict[str, float] = {}
    for size in sizes:
        overrides = [f"size={size}", f"steps={steps}", "eval_every=0", f"checkpoint_every={steps}",
                     f"device={device}", f"threads={torch.get_num_threads()}", "eval_images=4"]  # fmt: skip
        cfg = load_inpainter_config("quick", overrides=overrides)
        with tempfile.TemporaryDirectory() as folder:
            path = train_inpainter(cfg, folder, progress=False)
            assert path is not None
            out[str(size)] = load_inpainter(path)[1]["train_time_s"] / steps
    return out


def gpu_speed(
    sizes: list[int], count: int, checkpoint: str | None, repeats: int
) -> list[Measurement]:
    """images/s of the torch backends on CUDA (empty without a GPU); Telea is CPU-only."""
    if not torch.cuda.is_available():
        return []
    fills = {
        k: v for k, v in _fills(checkpoint).items() if k in ("learned", "harmonic", "pull_push")
    }
    measurements: list[Measurement] = []
    for size in sizes:
        truth, holes = held_out(count, size, "objects")
        x, h = truth.cuda().masked_fill(holes.cuda(), 0), holes.cuda()
        fns = {name: (lambda f=fill, x=x, h=h: f(x, h)) for name, fill in fills.items()}
        measurements += measure_interleaved(
            fns, suite="learned_inpainter", case=f"cuda objects {count}x3x{size}x{size} uint8",
            items=count, repeats=repeats, device="cuda",
        ).values()  # fmt: skip
    return measurements


def _mean(values: list[float]) -> float:
    return float(np.mean(values))


def summarise(
    results: dict[str, Any], train_step_s: dict[str, float], info: dict[str, Any]
) -> dict[str, Any]:
    """Means over hole kinds per size and method, and the two targets."""
    means: dict[str, Any] = {}
    for size, kinds in results.items():
        methods = next(iter(kinds.values()))
        means[size] = {
            name: {
                "psnr": _mean([kinds[k][name]["psnr"] for k in kinds]),
                "ssim": _mean([kinds[k][name]["ssim"] for k in kinds]),
                "detect": _mean([_mean(kinds[k][name]["detect"]) for k in kinds]),
                "detect_spread": _mean([float(np.std(kinds[k][name]["detect"])) for k in kinds]),
                "images_per_s": _mean([kinds[k][name]["images_per_s"] for k in kinds]),
            }
            for name in methods
        }
    targets: dict[str, Any] = {}
    for size, table in means.items():
        others = {n: v["detect"] for n, v in table.items() if n != "learned"}
        targets[f"least_detectable_{size}"] = {
            "learned": table["learned"]["detect"], "best_other": min(others.values()),
            "best_other_method": min(others, key=others.__getitem__),
            "pass": table["learned"]["detect"] < min(others.values()),
        }  # fmt: skip
    if "128" in means:
        learned, harmonic = means["128"]["learned"]["psnr"], means["128"]["harmonic"]["psnr"]
        targets["psnr_128_vs_harmonic"] = {
            "learned": learned, "harmonic": harmonic, "difference_db": learned - harmonic,
            "pass": learned >= harmonic,
        }  # fmt: skip
    return {
        "means": means, "targets": targets, "per_kind": results, "train_step_s": train_step_s,
        "model": info, "torch_threads": torch.get_num_threads(),
        "load_average_1min": os.getloadavg()[0], "cpu_count": os.cpu_count(),
    }  # fmt: skip


def table(summary: dict[str, Any], count: int) -> str:
    """The markdown report."""
    lines = [
        f"Held-out crops ({count} per size and hole kind) of the scikit-image photos' bottom-right "
        f"quarters, uint8; the same holes for every method; torch threads "
        f"{summary['torch_threads']}, 1-minute load average {summary['load_average_1min']:.1f} on "
        f"{summary['cpu_count']} cores. Learned model: {summary['model'].get('preset', '?')} preset, "
        f"{summary['model'].get('size', '?')} px crops, {summary['model'].get('steps', '?')} steps, "
        f"{summary['model'].get('train_time_s', '?')} s of training.",
        "",
        f"Detectability: {summary.get('detector', {}).get('seeds', '?')} detectors of "
        f"{summary.get('detector', {}).get('epochs', '?')} epochs (mean ± std).",
        "",
        "| size | hole | method | PSNR dB | SSIM | detectability | images/s |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for size, kinds in summary["per_kind"].items():
        for kind, methods in kinds.items():
            for name, v in methods.items():
                spread = float(np.std(v["detect"]))
                lines.append(
                    f"| {size} | {kind} | {name} | {v['psnr']:.2f} | {v['ssim']:.3f} | "
                    f"{_mean(v['detect']):.3f} ± {spread:.3f} | {v['images_per_s']:.0f} |"
                )
    lines += ["", "Means over the hole kinds:", "", "| size | method | PSNR dB | SSIM | detectability | images/s | vs harmonic speed |",
              "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for size, methods in summary["means"].items():
        base = methods["harmonic"]["images_per_s"]
        for name, v in methods.items():
            lines.append(
                f"| {size} | {name} | {v['psnr']:.2f} | {v['ssim']:.3f} | {v['detect']:.3f} | "
                f"{v['images_per_s']:.0f} | {v['images_per_s'] / base:.2f}x |"
            )
    lines += ["", "Training (quick preset's networks, batch 16): " + ", ".join(
        f"{key} px {s:.2f} s/step" for key, s in summary["train_step_s"].items())]  # fmt: skip
    gpu = summary.get("gpu_images_per_s") or {}
    lines += ["", "GPU (CUDA) images/s: " + (", ".join(f"{k} {v:.0f}" for k, v in gpu.items())
              or "no GPU in this run")]  # fmt: skip
    lines.append("")
    for name, t in summary["targets"].items():
        verdict = "PASS" if t["pass"] else "FAIL"
        detail = ", ".join(
            f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
            for k, v in t.items()
            if k != "pass"
        )
        lines.append(f"- {name}: {verdict} ({detail})")
    return "\n".join(lines)


def plot(summary: dict[str, Any], path: Any) -> None:
    """Detectability against PSNR, one panel per size, one marker per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = list(summary["means"])
    fig, axes = plt.subplots(1, len(sizes), figsize=(5 * len(sizes), 4), squeeze=False)
    for ax, size in zip(axes[0], sizes, strict=True):
        for index, (name, v) in enumerate(summary["means"][size].items()):
            ax.errorbar(v["psnr"], v["detect"], yerr=v["detect_spread"], fmt="os^Dv"[index % 5],
                        ms=8, capsize=3, label=name)  # fmt: skip
        ax.axhline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("PSNR in the hole, dB (higher is better)")
        ax.set_ylabel("detectability (0.5 = undetectable)")
        ax.set_title(f"{size} px held-out crops (mean over hole kinds)")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (no result claims)")
    parser.add_argument("--checkpoint", default=None, help="model file (default: the shipped one)")
    parser.add_argument("--count", type=int, default=None, help="images per size and hole kind")
    parser.add_argument("--sizes", default="64,128")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--detector-seeds", type=int, default=None, help="detectors (default 3)")
    parser.add_argument("--epochs", type=int, default=None, help="detector epochs (default 30)")
    parser.add_argument("--out", default=None, help="results folder (default benchmarks/results)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = [int(s) for s in args.sizes.split(",")]
    count = args.count or (10 if args.quick else 160)
    seeds, repeats, epochs, steps = (1, 1, 1, 2) if args.quick else (3, 5, 30, 20)
    seeds, epochs = args.detector_seeds or seeds, args.epochs or epochs
    measurements, results = run(sizes, count, seeds, repeats, args.checkpoint, epochs)
    from shiftaug.inpaint.learned import load_inpainter

    info = load_inpainter(args.checkpoint or DEFAULT_MODEL)[1]
    gpu = gpu_speed(sizes, count, args.checkpoint, repeats)
    measurements += gpu
    steps_s = {f"cpu {k}": v for k, v in training_speed(sizes, steps).items()}
    if torch.cuda.is_available():
        steps_s.update({f"cuda {k}": v for k, v in training_speed(sizes, steps, "cuda").items()})
    summary = summarise(results, steps_s, info)
    summary["gpu_images_per_s"] = {f"{m.case} / {m.method}": m.items_per_s for m in gpu}
    summary["detector"] = {"seeds": seeds, "epochs": epochs, "images": count}
    text = table(summary, count)
    print(text)
    out = RESULTS if args.out is None else __import__("pathlib").Path(args.out)
    write_results("learned_inpainter", measurements, text, summary=summary, out_dir=out)
    plot(summary, out / "learned_inpainter.png")
    print(f"environment: {environment()['platform']}, torch {torch.__version__}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
