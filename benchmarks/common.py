"""Timing helpers shared by every benchmark script (kornia's benchmark methodology).

- warm-up calls before timing; median and inter-quartile spread over repeats;
- device synchronisation inside the timed region;
- pinned seeds; machine and library versions recorded next to the numbers;
- results written as JSON plus a markdown table (and optionally a PNG bar plot).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "Measurement",
    "environment",
    "measure",
    "measure_interleaved",
    "plot_spread",
    "read_results",
    "sync",
    "write_results",
]

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Measurement:
    """One timed case: ``times_ms`` holds one entry per repeat (each the mean of ``number`` calls)."""

    suite: str
    case: str
    method: str
    times_ms: list[float]
    items: int = 1  # images processed per call, for throughput
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def spread_ms(self) -> tuple[float, float]:
        """(25th, 75th) percentile of the repeats."""
        ordered = sorted(self.times_ms)
        quartiles = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else ordered * 3
        return quartiles[0], quartiles[-1]

    @property
    def items_per_s(self) -> float:
        return self.items / (self.median_ms / 1e3)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            median_ms=self.median_ms, spread_ms=self.spread_ms, items_per_s=self.items_per_s
        )
        return data


def sync(device: torch.device | str | None = None) -> None:
    """Wait for queued work on ``device`` (no-op on CPU)."""
    device = torch.device(device) if device is not None else None
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(
    fn: Callable[[], Any],
    *,
    suite: str,
    case: str,
    method: str,
    items: int = 1,
    device: torch.device | str | None = None,
    warmup: int = 3,
    repeats: int = 15,
    number: int | None = None,
    min_time_s: float = 0.02,
    extra: dict[str, Any] | None = None,
) -> Measurement:
    """Time ``fn`` after ``warmup`` calls: ``repeats`` samples, each the mean over ``number`` calls.

    ``number`` defaults to enough calls for one sample to last ``min_time_s`` (so very fast
    calls are not dominated by timer resolution).
    """
    for _ in range(warmup):
        fn()
    sync(device)
    if number is None:
        start = time.perf_counter()
        fn()
        sync(device)
        once = max(time.perf_counter() - start, 1e-7)
        number = max(1, min(1000, int(min_time_s / once)))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        sync(device)
        times.append((time.perf_counter() - start) / number * 1e3)
    return Measurement(suite, case, method, times, items, dict(extra or {}))


def measure_interleaved(
    fns: Mapping[str, Callable[[], Any]],
    *,
    suite: str,
    case: str,
    items: int = 1,
    device: torch.device | str | None = None,
    warmup: int = 3,
    repeats: int = 15,
    min_time_s: float = 0.02,
    extras: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Measurement]:
    """:func:`measure` for several methods at once, in rounds.

    Every repeat times each method once in turn, so a busy spell on a shared machine slows all
    methods of a round alike and the ratios between them stay meaningful, where timing one
    method after the other would charge the whole spell to whichever method ran then.
    """
    numbers = {}
    for method, fn in fns.items():
        for _ in range(warmup):
            fn()
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        once = max(time.perf_counter() - start, 1e-7)
        numbers[method] = max(1, min(1000, int(min_time_s / once)))
    times: dict[str, list[float]] = {method: [] for method in fns}
    for _ in range(repeats):
        for method, fn in fns.items():
            start = time.perf_counter()
            for _ in range(numbers[method]):
                fn()
            sync(device)
            times[method].append((time.perf_counter() - start) / numbers[method] * 1e3)
    extras = extras or {}
    return {
        method: Measurement(suite, case, method, times[method], items, dict(extras.get(method, {})))
        for method in fns
    }


def environment() -> dict[str, Any]:
    """Machine and library versions, recorded with every result file."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cuda_device": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "time": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    for name in ("kornia", "torchvision", "albumentations", "cv2", "numpy", "shiftaug"):
        try:
            module = __import__(name)
            info[name] = getattr(module, "__version__", "?")
        except ImportError:
            info[name] = None
    return info


def write_results(
    name: str,
    measurements: Sequence[Measurement],
    table: str,
    *,
    summary: dict[str, Any] | None = None,
    out_dir: Path | None = None,
) -> tuple[Path, Path]:
    """Write ``<name>.json`` (raw repeats + environment) and ``<name>.md`` (``table``)."""
    out_dir = out_dir or RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{name}.json", out_dir / f"{name}.md"
    payload = {
        "environment": environment(),
        "summary": summary or {},
        "measurements": [m.to_dict() for m in measurements],
    }
    json_path.write_text(json.dumps(payload, indent=2) + "\n")
    md_path.write_text(table.rstrip() + "\n")
    return json_path, md_path


def read_results(path: Path) -> tuple[list[Measurement], dict[str, Any]]:
    """The measurements of a ``<name>.json`` written by :func:`write_results`, and the whole
    payload (``environment``, ``summary``): every plot is drawn from this file, so a figure
    shows the committed numbers and can be redrawn without timing anything."""
    payload = json.loads(Path(path).read_text())
    fields = ("suite", "case", "method", "times_ms", "items", "extra")
    measurements = [Measurement(**{k: m[k] for k in fields}) for m in payload["measurements"]]
    return measurements, payload


def plot_spread(
    axis: Any, rows: Sequence[Measurement], colours: Sequence[str], scale: float
) -> None:
    """Horizontal bars from 0 of ``items_per_s / scale`` with the inter-quartile range of the
    repeats as whiskers and the median written at each bar's end, first row on top."""
    values = [m.items_per_s / scale for m in rows]
    low = [m.items / (m.spread_ms[1] / 1e3) / scale for m in rows]  # slowest quartile
    high = [m.items / (m.spread_ms[0] / 1e3) / scale for m in rows]
    whiskers = [
        [v - lo for v, lo in zip(values, low, strict=True)],
        [hi - v for v, hi in zip(values, high, strict=True)],
    ]
    y = range(len(rows))
    axis.barh(y, values, xerr=whiskers, color=colours, ecolor="0.3", capsize=2)
    for yi, value, top in zip(y, values, high, strict=True):
        label = f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
        axis.text(top + max(high) * 0.01, yi, label, va="center", fontsize=7)
    axis.set_yticks(list(y), [m.method for m in rows], fontsize=8)
    axis.set_xlim(0, max(high) * 1.15)
    axis.invert_yaxis()
    axis.grid(axis="x", alpha=0.3)
