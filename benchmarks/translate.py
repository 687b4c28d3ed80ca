"""Translation kernels: shiftaug against kornia, torchvision v2, albumentations, DrQ-v2 and memcpy.

Every method is timed in ONE run on the same batch (same shape, dtype and device), with
per-sample shifts of up to 1/8 of the image size, and the issue-3 speed targets are printed as
PASS/FAIL with the measured ratio. Results go to ``<out>/translate.{json,md,png}``.

    python benchmarks/translate.py                 # full run on the CPU, torch's threads
    python benchmarks/translate.py --threads 1     # steadier on a busy machine (~2 minutes)
    python benchmarks/translate.py --quick         # smoke run: few repeats
    python benchmarks/translate.py --device cuda   # adds achieved GB/s next to a D2D copy
    python benchmarks/translate.py --redraw        # translate.png from the committed JSON
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from common import RESULTS, Measurement, measure_interleaved, read_results, write_results

import shiftaug
from shiftaug._speed import drq_random_shift
from shiftaug.functional import translate_image

SHAPES = ((256, 3, 32, 32), (64, 3, 224, 224))
DTYPES = ("float32", "uint8")
SEED = 0
# kind: "ours", "peer" (per-sample shifts), "batch" (one shift per call), "limit" (memory bound)
KIND_COLOURS = {"ours": "tab:blue", "peer": "tab:orange", "batch": "tab:gray", "limit": "k"}


class Unsupported(Exception):
    """A method cannot run this case (raised with the reason shown in the table)."""


@dataclass(frozen=True)
class Case:
    x: torch.Tensor  # (N, C, H, W) input batch
    pad: int  # largest shift in pixels: 1/8 of the width

    @property
    def size(self) -> tuple[int, int]:
        return self.x.shape[-2], self.x.shape[-1]


@dataclass(frozen=True)
class Method:
    key: str
    label: str
    kind: str
    build: Callable[[Case], Callable[[], Any]]


def _shiftaug_kernel(
    interpolation: str, padding_mode: str = "zeros", into_buffer: bool = False
) -> Callable[[Case], Any]:
    def build(case: Case) -> Callable[[], Any]:
        g = torch.Generator(device=case.x.device).manual_seed(SEED)
        shift = (
            torch.rand(case.x.shape[0], 2, generator=g, device=case.x.device) * 2 - 1
        ) * case.pad
        if interpolation == "nearest":
            shift = shift.round()
        buffer = torch.empty_like(case.x) if into_buffer else None
        return lambda: translate_image(
            case.x, shift, padding_mode=padding_mode, interpolation=interpolation, out=buffer
        )

    return build


def _shiftaug_module(interpolation: str) -> Callable[[Case], Any]:
    def build(case: Case) -> Callable[[], Any]:
        g = torch.Generator(device=case.x.device).manual_seed(SEED)
        t = shiftaug.RandomTranslate(shift_px=case.pad, interpolation=interpolation, generator=g)
        return lambda: t(case.x)

    return build


def _kornia(name: str) -> Callable[[Case], Any]:
    def build(case: Case) -> Callable[[], Any]:
        import kornia.augmentation as K

        frac = (-1 / 8, 1 / 8)
        if name == "affine":
            t = K.RandomAffine(degrees=0.0, translate=(1 / 8, 1 / 8), p=1.0)
        elif name == "translate":
            t = K.RandomTranslate(frac, frac, resample="nearest", p=1.0)
        else:
            t = K.RandomCrop(case.size, padding=case.pad, p=1.0)
        return lambda: t(case.x)

    return build


def _torchvision(name: str, per_sample: bool) -> Callable[[Case], Any]:
    def build(case: Case) -> Callable[[], Any]:
        from torchvision.transforms import v2

        if name == "affine":
            t = v2.RandomAffine(degrees=0.0, translate=(1 / 8, 1 / 8))
        else:
            t = v2.RandomCrop(case.size, padding=case.pad)
        if not per_sample:
            return lambda: t(case.x)
        return lambda: torch.stack([t(image) for image in case.x])

    return build


def _albumentations(convert: bool) -> Callable[[Case], Any]:
    def build(case: Case) -> Callable[[], Any]:
        import albumentations as A
        import cv2

        if case.x.device.type != "cpu":
            raise Unsupported("CPU/NumPy only")
        aug = A.Affine(
            translate_px={"x": (-case.pad, case.pad), "y": (-case.pad, case.pad)},
            interpolation=cv2.INTER_NEAREST, border_mode=cv2.BORDER_CONSTANT, fill=0, p=1.0,
        )  # fmt: skip
        aug.set_random_seed(SEED)
        if not convert:  # the images already live in NumPy, HWC: the per-image loop alone
            arrays = [np.ascontiguousarray(a) for a in case.x.permute(0, 2, 3, 1).numpy()]
            return lambda: [aug(image=a)["image"] for a in arrays]

        def run() -> torch.Tensor:  # NCHW tensor in, NCHW tensor out
            arrays = np.ascontiguousarray(case.x.permute(0, 2, 3, 1).numpy())
            out = np.stack([aug(image=a)["image"] for a in arrays])
            return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous()

        return run

    return build


def _drq(case: Case) -> Callable[[], Any]:
    g = torch.Generator(device=case.x.device).manual_seed(SEED)
    return lambda: drq_random_shift(case.x, case.pad, generator=g)


def _copy(case: Case) -> Callable[[], Any]:
    out = torch.empty_like(case.x)
    return lambda: out.copy_(case.x)


def _float_peer(build: Callable[[Case], Any]) -> Callable[[Case], Any]:
    def checked(case: Case) -> Callable[[], Any]:
        fn = build(case)
        try:
            fn()
        except (TypeError, RuntimeError, NotImplementedError) as error:
            dtype = str(case.x.dtype).replace("torch.", "")
            raise Unsupported(f"rejects {dtype} ({str(error).splitlines()[0]})") from error
        return fn

    return checked


METHODS = (
    Method("shiftaug_nearest", "shiftaug RandomTranslate, nearest", "ours", _shiftaug_module("nearest")),
    Method("shiftaug_nearest_kernel", "shiftaug translate_image, nearest", "ours", _shiftaug_kernel("nearest")),
    Method("shiftaug_nearest_replicate", "shiftaug translate_image, nearest replicate", "ours", _shiftaug_kernel("nearest", "replicate")),
    Method("shiftaug_nearest_out", "shiftaug translate_image, nearest, out= a reused buffer", "ours", _shiftaug_kernel("nearest", into_buffer=True)),
    Method("shiftaug_bilinear", "shiftaug RandomTranslate, bilinear sub-pixel", "ours", _shiftaug_module("bilinear")),
    Method("shiftaug_bilinear_kernel", "shiftaug translate_image, bilinear sub-pixel", "ours", _shiftaug_kernel("bilinear")),
    Method("kornia_affine", "kornia RandomAffine(translate), bilinear", "peer", _float_peer(_kornia("affine"))),
    Method("kornia_translate", "kornia RandomTranslate, nearest", "peer", _float_peer(_kornia("translate"))),
    Method("kornia_crop", "kornia RandomCrop(padding)", "peer", _float_peer(_kornia("crop"))),
    Method("tv_affine_loop", "torchvision v2 RandomAffine, per-sample loop", "peer", _torchvision("affine", True)),
    Method("tv_crop_loop", "torchvision v2 RandomCrop(padding), per-sample loop", "peer", _torchvision("crop", True)),
    Method("album_affine", "albumentations Affine per image (NumPy HWC)", "peer", _albumentations(False)),
    Method("album_affine_torch", "albumentations Affine per image, incl. tensor<->NumPy", "peer", _albumentations(True)),
    Method("drq", "DrQ-v2 random shift (pad + grid_sample)", "peer", _float_peer(_drq)),
    Method("tv_affine_batch", "torchvision v2 RandomAffine, one shift per batch", "batch", _torchvision("affine", False)),
    Method("copy", "memory limit: out.copy_(x)", "limit", _copy),
    Method("clone", "memory limit: x.clone()", "limit", lambda case: case.x.clone),
)  # fmt: skip


@dataclass(frozen=True)
class Target:
    name: str
    shape: tuple[int, ...]
    dtype: str
    ours: str
    versus: str | tuple[str, ...]  # a method, or the per-sample peers (the fastest one counts)
    minimum: float  # required ratio peer_ms / ours_ms


PER_SAMPLE_PEERS = tuple(m.key for m in METHODS if m.kind == "peer")
# The same peers, counting albumentations with the conversion back to an (N, C, H, W) tensor:
# what a training loop that feeds a model actually pays.
TENSOR_PEERS = tuple(key for key in PER_SAMPLE_PEERS if key != "album_affine")
TARGETS = (
    Target("nearest f32 vs fastest per-sample peer", SHAPES[0], "float32", "shiftaug_nearest", PER_SAMPLE_PEERS, 3.0),
    Target("nearest f32 vs fastest per-sample peer", SHAPES[1], "float32", "shiftaug_nearest", PER_SAMPLE_PEERS, 1.5),
    Target("nearest f32 vs fastest peer giving a batch tensor", SHAPES[0], "float32", "shiftaug_nearest", TENSOR_PEERS, 3.0),
    Target("nearest f32 vs fastest peer giving a batch tensor", SHAPES[1], "float32", "shiftaug_nearest", TENSOR_PEERS, 1.5),
    Target("nearest f32 within 2x of x.clone()", SHAPES[1], "float32", "shiftaug_nearest", "clone", 0.5),
    Target("nearest uint8 vs albumentations Affine", SHAPES[0], "uint8", "shiftaug_nearest", "album_affine", 2.0),
    Target("nearest uint8 vs albumentations Affine", SHAPES[1], "uint8", "shiftaug_nearest", "album_affine", 2.0),
    Target("bilinear f32 vs kornia RandomAffine", SHAPES[0], "float32", "shiftaug_bilinear", "kornia_affine", 2.0),
    Target("bilinear f32 vs kornia RandomAffine", SHAPES[1], "float32", "shiftaug_bilinear", "kornia_affine", 2.0),
)  # fmt: skip


def make_input(shape: Sequence[int], dtype: str, device: str) -> torch.Tensor:
    g = torch.Generator().manual_seed(SEED)
    x = torch.rand(tuple(shape), generator=g)
    x = (x * 255).round().to(torch.uint8) if dtype == "uint8" else x.to(getattr(torch, dtype))
    return x.to(device)


def run_case(
    shape: tuple[int, ...], dtype: str, device: str, quick: bool
) -> tuple[list[Measurement], dict[str, str]]:
    """Time every method on one batch, interleaved; return the measurements and the skips."""
    case = Case(make_input(shape, dtype, device), pad=max(1, shape[-1] // 8))
    fns, extras, skipped = {}, {}, {}
    for method in METHODS:
        torch.manual_seed(SEED)  # kornia and torchvision draw from the global generator
        try:
            fn = method.build(case)
        except Unsupported as why:
            skipped[method.key] = str(why)
            continue
        out = fn()
        if isinstance(out, torch.Tensor) and out.shape != case.x.shape:
            raise RuntimeError(f"{method.key} returned shape {tuple(out.shape)} for {shape}")
        fns[method.key] = fn
        extras[method.key] = {"shape": list(shape), "dtype": dtype, "device": device}
        extras[method.key].update(kind=method.kind, pad=case.pad)
    timing = {"warmup": 1, "repeats": 3, "min_time_s": 0.0} if quick else {"repeats": 21}
    found = measure_interleaved(
        fns, suite="translate", case=_case_name(shape, dtype), items=shape[0], device=device,
        extras=extras, **timing,
    )  # fmt: skip
    for method in METHODS:
        if method.key in found:
            m = found[method.key]
            m.extra["gb_per_s"] = 2 * case.x.nbytes / (m.median_ms / 1e3) / 1e9
            low, high = m.spread_ms
            print(f"  {method.label:<55} {m.median_ms:9.3f} ms  [{low:.3g}, {high:.3g}]")
    return list(found.values()), skipped


def _case_name(shape: Sequence[int], dtype: str) -> str:
    return "x".join(map(str, shape)) + f" {dtype}"


def evaluate(targets: Sequence[Target], results: dict[tuple[str, str], Measurement]) -> list[dict]:
    """Ratio (peer ms / our ms) and PASS/FAIL for every target whose case was measured."""
    rows = []
    for target in targets:
        case = _case_name(target.shape, target.dtype)
        ours = results.get((case, target.ours))
        versus = (target.versus,) if isinstance(target.versus, str) else target.versus
        peers = [results[(case, key)] for key in versus if (case, key) in results]
        if ours is None or not peers:
            continue
        peer = min(peers, key=lambda m: m.median_ms)
        ratio = peer.median_ms / ours.median_ms
        rows.append({
            "target": target.name, "case": case, "ours": ours.method, "peer": peer.method,
            "ours_ms": ours.median_ms, "peer_ms": peer.median_ms, "ratio": ratio,
            "minimum": target.minimum, "status": "PASS" if ratio >= target.minimum else "FAIL",
        })  # fmt: skip
    return rows


def markdown(
    measurements: Sequence[Measurement],
    skipped: dict[tuple[str, str], str],
    verdicts: Sequence[dict],
    device: str,
    context: str = "",
) -> str:
    cases = list(dict.fromkeys(m.case for m in measurements))
    by_key = {(m.case, m.method): m for m in measurements}
    lines = [
        f"Median ms per batch (inter-quartile range), device `{device}`{context}; lower is "
        "better."
        + (
            " On CUDA each cell also gives the achieved GB/s (read + write)."
            if device != "cpu"
            else ""
        ),
        "",
        "| method | " + " | ".join(cases) + " |",
        "|---|" + "---|" * len(cases),
    ]
    for method in METHODS:
        cells = []
        for case in cases:
            m = by_key.get((case, method.key))
            if m is None:
                reason = skipped.get((case, method.key), "not run")
                cells.append(f"*{reason.split(' (')[0]}*")  # the full message is in the JSON
                continue
            low, high = m.spread_ms
            cell = f"{_fmt(m.median_ms)} ({_fmt(low)}–{_fmt(high)})"
            if device != "cpu":
                cell += f", {m.extra['gb_per_s']:.0f} GB/s"
            cells.append(cell)
        lines.append(f"| {method.label} | " + " | ".join(cells) + " |")
    if verdicts:
        lines += ["", "| target | case | ours (ms) | versus (ms) | ratio | required | result |"]
        lines.append("|---|---|---|---|---|---|---|")
        for v in verdicts:
            lines.append(
                f"| {v['target']} | {v['case']} | {_fmt(v['ours_ms'])} | {v['peer']} "
                f"({_fmt(v['peer_ms'])}) | {v['ratio']:.2f}x | >= {v['minimum']}x | "
                f"**{v['status']}** |"
            )
    return "\n".join(lines)


def _fmt(ms: float) -> str:
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


def plot(
    measurements: Sequence[Measurement], path: Path, summary: dict[str, Any] | None = None
) -> None:
    """Median ms per method as dots with IQR whiskers (a log axis: no bars, whose length would
    mean nothing there), one panel per case; a method that refused the case says so."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = summary or {}
    cases = list(dict.fromkeys(m.case for m in measurements))
    labels = {m.key: m.label for m in METHODS}
    order = [m.key for m in METHODS]
    low = min(min(m.spread_ms[0], m.median_ms) for m in measurements) / 3
    high = max(max(m.spread_ms[1], m.median_ms) for m in measurements) * 6
    fig, axes = plt.subplots(1, len(cases), figsize=(4.2 * len(cases) + 2.5, 5.5), sharey=True)
    for ax, case in zip(np.atleast_1d(axes), cases, strict=True):
        found = {m.method: m for m in measurements if m.case == case}
        for key in order:
            y = order.index(key)
            if key not in found:
                why = summary.get("skipped", {}).get(f"{case} / {key}", "not measured")
                ax.text(low * 1.2, y, why.split(" (")[0], va="center", fontsize=7, color="0.4")
                continue
            m = found[key]
            spread = [[m.median_ms - m.spread_ms[0]], [m.spread_ms[1] - m.median_ms]]
            colour = KIND_COLOURS[m.extra["kind"]]
            ax.errorbar(m.median_ms, y, xerr=spread, fmt="o", color=colour, ms=5, capsize=2)
            ax.text(m.spread_ms[1] * 1.15, y, _fmt(m.median_ms), va="center", fontsize=7)
        ax.set_xscale("log")
        ax.set_xlim(low, high)  # one scale for every panel
        ax.set_title(case, fontsize=10)
        ax.set_xlabel(
            "ms per batch, log scale (median, whiskers: IQR; lower is better)", fontsize=8
        )
        ax.grid(axis="x", alpha=0.3)
    first = np.atleast_1d(axes)[0]
    first.set_yticks(range(len(order)), [labels[k] for k in order], fontsize=8)
    first.invert_yaxis()
    kinds = {"ours": "shiftaug", "peer": "per-sample peer", "batch": "one shift per batch"}
    kinds["limit"] = "memory limit (copy)"
    handles = [plt.Line2D([], [], marker="o", ls="", color=KIND_COLOURS[k]) for k in kinds]
    fig.legend(handles, list(kinds.values()), loc="lower center", ncol=4, fontsize=8)
    threads = summary.get("threads")
    where = f" on {threads} CPU thread(s)" if threads else ""
    fig.suptitle(f"Per-sample random translation of a batch{where}", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def redraw(out: Path) -> Path:
    """Draw ``<out>/translate.png`` from ``<out>/translate.json``."""
    measurements, payload = read_results(out / "translate.json")
    plot(measurements, out / "translate.png", payload["summary"])
    return out / "translate.png"


def parse_shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"shape must look like 256x3x32x32, got {text!r}"
        ) from None
    if len(shape) != 4 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"shape must be N x C x H x W, got {text!r}")
    return shape


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats (smoke test)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument("--shapes", type=parse_shape, nargs="+", default=list(SHAPES))
    parser.add_argument("--dtypes", nargs="+", choices=DTYPES, default=list(DTYPES))
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG (no matplotlib)")
    parser.add_argument(
        "--threads", type=int, default=None,
        help="intra-op threads for torch and OpenCV alike (default: torch's default); 1 is "
        "far steadier on a busy machine",
    )  # fmt: skip
    parser.add_argument(
        "--redraw", action="store_true", help="only redraw translate.png from translate.json"
    )
    args = parser.parse_args(argv)
    if args.redraw:
        print(f"wrote {redraw(args.out)}")
        return 0
    if args.threads is not None:
        import cv2

        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda needs a CUDA device")
    load_before = os.getloadavg()  # a busy shared machine shows here; recorded with the results
    measurements: list[Measurement] = []
    skipped: dict[tuple[str, str], str] = {}
    for shape in args.shapes:
        for dtype in args.dtypes:
            print(f"{_case_name(shape, dtype)} on {args.device}:")
            found, why = run_case(shape, dtype, args.device, args.quick)
            measurements += found
            skipped.update({(_case_name(shape, dtype), k): v for k, v in why.items()})
    verdicts = evaluate(TARGETS, {(m.case, m.method): m for m in measurements})
    load_after = os.getloadavg()
    context = (
        f", {torch.get_num_threads()} intra-op thread(s) on {os.cpu_count()} cores, 1-minute "
        f"load average {load_before[0]:.1f} before and {load_after[0]:.1f} after the run"
    )
    table = markdown(measurements, skipped, verdicts, args.device, context)
    summary = {"targets": verdicts, "skipped": {f"{c} / {k}": v for (c, k), v in skipped.items()}}
    summary.update(quick=args.quick, threads=torch.get_num_threads())
    summary.update(load_average_before=load_before, load_average_after=load_after)
    json_path, md_path = write_results(
        "translate", measurements, table, summary=summary, out_dir=args.out
    )
    if not args.no_plot:
        redraw(args.out)
    print()
    for v in verdicts:
        print(f"{v['status']}  {v['target']} [{v['case']}]: {v['ratio']:.2f}x "
              f"(needs >= {v['minimum']}x; {v['peer']} {_fmt(v['peer_ms'])} ms vs "
              f"{v['ours']} {_fmt(v['ours_ms'])} ms)")  # fmt: skip
    print(f"\nwrote {json_path}, {md_path}" + ("" if args.no_plot else " and translate.png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
