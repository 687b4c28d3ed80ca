"""Pipelines and adapters: end-to-end DataLoader epochs and albumentations' per-image speed.

Every method is timed in ONE run, interleaved round by round (``measure_interleaved``), on the
same in-memory uint8 images:

- epoch throughput (images/s) of a ``DataLoader`` with 2 workers over an in-memory dataset:
  albumentations ``Affine(translate_px)`` and torchvision v2 ``RandomAffine(translate)`` per
  image in the workers, our albumentations and torchvision adapters in the same places, and
  shiftaug's batched ``RandomTranslate`` after the loader (``AugmentOnDevice``), next to
  kornia's ``RandomTranslate`` after the loader (which needs float images);
- per-image calls of ``A.Compose([A.Affine(translate_px)])`` against
  ``A.Compose([shiftaug RandomTranslate])`` for the same shift, 32x32 and 224x224 uint8.

Results go to ``<out>/pipelines.{json,md,png}``.

    python benchmarks/pipelines.py            # full run (a few minutes on 2 cores)
    python benchmarks/pipelines.py --quick    # smoke run: small datasets, few repeats
    python benchmarks/pipelines.py --redraw   # pipelines.png from the committed JSON
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import albumentations as A
import kornia.augmentation as K
import numpy as np
import torch
from common import (
    RESULTS,
    Measurement,
    measure_interleaved,
    plot_spread,
    read_results,
    write_results,
)
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

import shiftaug
from shiftaug.adapters import albumentations as sa_albumentations
from shiftaug.adapters import torchvision as sa_torchvision
from shiftaug.adapters.loader import AugmentOnDevice

SEED = 0
SHIFT = 4  # shifts are uniform whole pixels in [-SHIFT, SHIFT] on both axes, for every method
FIXED = (3, -2)  # the one shift of the per-image "same shift" comparison
WORKERS = 2


class Images(Dataset[torch.Tensor]):
    """In-memory uint8 images; ``kind`` says how ``transform`` is called per image."""

    def __init__(self, images: np.ndarray, kind: str, transform: Any = None) -> None:
        self.hwc = images  # (N, H, W, C) for albumentations
        self.chw = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
        self.kind, self.transform = kind, transform

    def __len__(self) -> int:
        return len(self.hwc)

    def __getitem__(self, index: int) -> torch.Tensor:
        if self.kind == "albumentations":
            image = self.transform(image=self.hwc[index])["image"]
            return torch.from_numpy(image).permute(2, 0, 1)
        if self.kind == "torchvision":
            return self.transform(self.chw[index])
        return self.chw[index]


def _loader(
    dataset: Dataset[torch.Tensor], batch_size: int, workers: int
) -> DataLoader[torch.Tensor]:
    return DataLoader(
        dataset, batch_size=batch_size, num_workers=workers, persistent_workers=workers > 0
    )


def _epoch(batches: Iterable[torch.Tensor]) -> Callable[[], int]:
    def run() -> int:
        return sum(int(batch.shape[0]) for batch in batches)

    return run


def epoch_methods(
    images: np.ndarray, batch_size: int, workers: int = WORKERS
) -> dict[str, tuple[str, Callable[[], int]]]:
    """method -> (placement, one-epoch callable)."""
    height, width = images.shape[1:3]
    frac = (SHIFT / width, SHIFT / height)
    as_float = K.RandomTranslate(
        translate_x=(-frac[0], frac[0]), translate_y=(-frac[1], frac[1]), p=1.0
    )

    def kornia_after(batches: Iterable[torch.Tensor]) -> Iterable[torch.Tensor]:
        return (as_float(batch.float().div_(255)) for batch in batches)

    def ours_float_after(batches: Iterable[torch.Tensor]) -> Iterable[torch.Tensor]:
        translate = shiftaug.RandomTranslate(shift_px=SHIFT)
        return (translate(batch.float().div_(255)) for batch in batches)

    def per_image(kind: str, transform: Any) -> DataLoader[torch.Tensor]:
        return _loader(Images(images, kind, transform), batch_size, workers)

    raw = _loader(Images(images, "raw"), batch_size, workers)
    return {
        "albumentations Affine": (
            "workers",
            _epoch(
                per_image(
                    "albumentations", A.Compose([A.Affine(translate_px=SHIFT, p=1.0)], seed=SEED)
                )
            ),
        ),
        "shiftaug albumentations adapter": (
            "workers",
            _epoch(
                per_image(
                    "albumentations",
                    A.Compose(
                        [sa_albumentations.RandomTranslate(shift_px=SHIFT, p=1.0)], seed=SEED
                    ),
                )
            ),
        ),
        "torchvision RandomAffine": (
            "workers",
            _epoch(per_image("torchvision", v2.RandomAffine(degrees=0, translate=frac))),
        ),
        "shiftaug torchvision adapter": (
            "workers",
            _epoch(per_image("torchvision", sa_torchvision.RandomTranslate(shift_px=SHIFT))),
        ),
        "shiftaug batched after the loader": (
            "after loader, uint8",
            _epoch(AugmentOnDevice(raw, shiftaug.RandomTranslate(shift_px=SHIFT))),
        ),
        "shiftaug batched after the loader (float32)": (
            "after loader, float32",
            _epoch(_Reiterable(raw, ours_float_after)),
        ),
        "kornia RandomTranslate after the loader (float32)": (
            "after loader, float32",
            _epoch(_Reiterable(raw, kornia_after)),
        ),
        "no augmentation (loader only)": ("workers", _epoch(raw)),
    }


class _Reiterable:
    """``wrap(loader)`` afresh on every iteration (one epoch each)."""

    def __init__(
        self,
        loader: Iterable[torch.Tensor],
        wrap: Callable[[Iterable[torch.Tensor]], Iterable[torch.Tensor]],
    ) -> None:
        self.loader, self.wrap = loader, wrap

    def __iter__(self) -> Any:
        return iter(self.wrap(self.loader))


def per_image_methods(size: int, shift: tuple[int, int] | None) -> dict[str, Callable[[], Any]]:
    image = np.random.default_rng(SEED).integers(0, 256, (size, size, 3), dtype=np.uint8)
    if shift is None:  # a random shift per call, the same range for both
        affine, ours = (
            A.Affine(translate_px=SHIFT, p=1.0),
            sa_albumentations.RandomTranslate(shift_px=SHIFT, p=1.0),
        )
    else:
        dx, dy = shift
        affine = A.Affine(translate_px={"x": (dx, dx), "y": (dy, dy)}, p=1.0)
        ours = sa_albumentations.RandomTranslate(shift_px=((dx, dx), (dy, dy)), p=1.0)
    theirs_pipeline, ours_pipeline = A.Compose([affine], seed=SEED), A.Compose([ours], seed=SEED)
    return {
        "albumentations Affine": lambda: theirs_pipeline(image=image),
        "shiftaug albumentations adapter": lambda: ours_pipeline(image=image),
    }


def run(quick: bool) -> tuple[list[Measurement], dict[str, Any]]:
    torch.manual_seed(SEED)
    repeats = 3 if quick else 7
    rng = np.random.default_rng(SEED)
    measurements: list[Measurement] = []
    summary: dict[str, Any] = {"epoch": {}, "per_image": {}}
    epoch_cases = ((32, 1024 if quick else 8192, 256), (224, 128 if quick else 1024, 64))
    for size, count, batch_size in epoch_cases:
        images = rng.integers(0, 256, (count, size, size, 3), dtype=np.uint8)
        methods = epoch_methods(images, batch_size)
        case = f"epoch {count}x{size}x{size} uint8, batch {batch_size}, {WORKERS} workers"
        results = measure_interleaved(
            {name: fn for name, (_, fn) in methods.items()}, suite="pipelines", case=case,
            items=count, warmup=1, repeats=repeats, min_time_s=0.0,
            extras={name: {"placement": where} for name, (where, _) in methods.items()},
        )  # fmt: skip
        measurements += results.values()
        speed = {name: m.items_per_s for name, m in results.items()}
        summary["epoch"][size] = {
            "albumentations adapter / Affine": speed["shiftaug albumentations adapter"]
            / speed["albumentations Affine"],
            "torchvision adapter / RandomAffine": speed["shiftaug torchvision adapter"]
            / speed["torchvision RandomAffine"],
            "batched after loader / Affine in workers": speed["shiftaug batched after the loader"]
            / speed["albumentations Affine"],
        }
        print(_epoch_table(list(results.values())))
    for size in (32, 224):
        for label, shift in (("same shift (3, -2)", FIXED), (f"uniform [-{SHIFT}, {SHIFT}]", None)):
            case = f"per image {size}x{size} uint8, {label}"
            results = measure_interleaved(
                per_image_methods(size, shift), suite="pipelines", case=case, repeats=repeats * 3
            )
            measurements += results.values()
            ratio = (
                results["shiftaug albumentations adapter"].items_per_s
                / results["albumentations Affine"].items_per_s
            )
            summary["per_image"][case] = ratio
            print(f"{case}: shiftaug / Affine = {ratio:.2f}x")
    return measurements, summary


def _epoch_table(measurements: Sequence[Measurement]) -> str:
    lines = [
        f"### {measurements[0].case}",
        "",
        "| method | where | images/s | epoch ms (IQR) |",
        "|---|---|---:|---:|",
    ]
    for m in measurements:
        low, high = m.spread_ms
        lines.append(
            f"| {m.method} | {m.extra.get('placement', '')} | {m.items_per_s:,.0f} | "
            f"{m.median_ms:.0f} ({low:.0f}-{high:.0f}) |"
        )
    return "\n".join(lines)


def markdown(measurements: Sequence[Measurement], summary: dict[str, Any]) -> str:
    epochs = [m for m in measurements if m.case.startswith("epoch")]
    per_image = [m for m in measurements if m.case.startswith("per image")]
    parts = ["## DataLoader epochs", ""]
    for case in dict.fromkeys(m.case for m in epochs):
        parts += [_epoch_table([m for m in epochs if m.case == case]), ""]
    parts += [
        "## albumentations per image (A.Compose, one image per call)",
        "",
        "| case | Affine images/s | shiftaug images/s | shiftaug / Affine |",
        "|---|---:|---:|---:|",
    ]
    for case in dict.fromkeys(m.case for m in per_image):
        theirs, ours = (
            next(m for m in per_image if m.case == case and m.method == name)
            for name in ("albumentations Affine", "shiftaug albumentations adapter")
        )
        parts.append(
            f"| {case.removeprefix('per image ')} | {theirs.items_per_s:,.0f} | "
            f"{ours.items_per_s:,.0f} | {ours.items_per_s / theirs.items_per_s:.2f}x |"
        )
    return "\n".join(parts)


def plot(measurements: Sequence[Measurement], path: Path, threads: int | None = None) -> None:
    """One panel per epoch case: thousand images/s of every method from 0 (IQR whiskers)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [m for m in measurements if m.case.startswith("epoch")]
    cases = list(dict.fromkeys(m.case for m in epochs))
    kinds = {"tab:blue": "shiftaug", "tab:orange": "peer library", "tab:gray": "no augmentation"}
    fig, axes = plt.subplots(1, len(cases), figsize=(7.5 * len(cases), 4.8), squeeze=False)
    for axis, case in zip(axes[0], cases, strict=True):
        rows = [m for m in epochs if m.case == case]
        colours = [
            "tab:blue" if m.method.startswith("shiftaug")
            else "tab:gray" if m.method.startswith("no ") else "tab:orange"
            for m in rows
        ]  # fmt: skip
        plot_spread(axis, rows, colours, 1e3)
        axis.set_xlabel("thousand images / s (median, whiskers: IQR; higher is better)")
        axis.set_title(case, fontsize=9)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in kinds]
    fig.legend(handles, list(kinds.values()), loc="lower center", ncol=3, fontsize=8)
    where = f", main process on {threads} torch thread(s)" if threads else ""
    fig.suptitle(f"DataLoader epochs, augmentation included{where}", fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def redraw(out: Path) -> Path:
    """Draw ``<out>/pipelines.png`` from ``<out>/pipelines.json``."""
    measurements, payload = read_results(out / "pipelines.json")
    plot(measurements, out / "pipelines.png", payload["summary"].get("main_process_threads"))
    return out / "pipelines.png"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small datasets and few repeats")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads of the main process (default 1: with 2 loader workers on a small "
        "machine, more intra-op threads oversubscribe the cores and stall)",
    )
    parser.add_argument(
        "--redraw", action="store_true", help="only redraw pipelines.png from pipelines.json"
    )
    args = parser.parse_args(argv)
    if args.redraw:
        print(f"wrote {redraw(args.out)}")
        return 0
    torch.set_num_threads(args.threads)
    measurements, summary = run(args.quick)
    summary.update(quick=args.quick, main_process_threads=args.threads)
    table = markdown(measurements, summary)
    json_path, md_path = write_results(
        "pipelines", measurements, table, summary=summary, out_dir=args.out
    )
    redraw(args.out)
    print(table)
    print(f"wrote {json_path}, {md_path} and {args.out / 'pipelines.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
