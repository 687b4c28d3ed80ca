"""A compact in-process speed check, and the DrQ-v2 random shift it is compared with.

``shiftaug demo`` prints a headline measured here in a second or two; the full comparison with
every peer is ``benchmarks/translate.py``, which reuses :func:`drq_shift` so that both measure
the same baseline. The package cannot import ``benchmarks/``, hence this small module.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ._checks import check_tensor, describe

__all__ = ["Headline", "drq_random_shift", "drq_shift", "median_ms", "speed_headline"]

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def drq_shift(x: torch.Tensor, offset: torch.Tensor, pad: int) -> torch.Tensor:
    """DrQ-v2's random shift for given offsets: replicate padding, then ``grid_sample``.

    Written from the description in Yarats et al. 2021 ("Mastering Visual Continuous Control:
    Improved Data-Augmented Reinforcement Learning", Sec. 3.1): pad every side by ``pad``
    pixels repeating the border, then read an ``H x W`` window at an integer offset in
    ``[0, 2 * pad]`` by bilinear sampling on a grid of pixel centres.

    Args:
        x: ``(N, C, H, W)`` floating-point images.
        offset: ``(N, 2)`` integer ``(ox, oy)`` window offsets into the padded image, each in
            ``[0, 2 * pad]``; the content moves by ``(pad - ox, pad - oy)`` pixels.
        pad: padding in pixels, ``>= 0``.

    Returns:
        ``(N, C, H, W)`` shifted images.

    Shape:
        - x: ``(N, C, H, W)``
        - offset: ``(N, 2)``
        - output: ``(N, C, H, W)``

    Example:
        >>> import torch
        >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
        >>> drq_shift(x, torch.tensor([[1, 1]]), pad=1).equal(x)  # offset == pad: no move
        True
    """
    # Like DrQ-v2 itself (and grid_sample), floating point only: uint8 is refused, not converted.
    check_tensor("x", x, ndim=4, layout="(N, C, H, W)", dtypes=FLOAT_DTYPES)
    if isinstance(pad, bool) or not isinstance(pad, int) or pad < 0:
        raise ValueError(f"`pad` must be an int >= 0, but got {describe(pad)}.")
    if offset.shape != (x.shape[0], 2):
        raise ValueError(
            f"`offset` must have shape {(x.shape[0], 2)}, but got {tuple(offset.shape)}."
        )
    height, width = x.shape[-2:]
    padded = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    # Normalised coordinates (align_corners=False) of the centres of the top-left H x W pixels
    # of the padded image; an offset of k pixels adds 2k / padded_size.
    size = torch.tensor([width + 2 * pad, height + 2 * pad], device=x.device, dtype=x.dtype)
    cols = (torch.arange(width, device=x.device, dtype=x.dtype) + 0.5) * 2 / size[0] - 1
    rows = (torch.arange(height, device=x.device, dtype=x.dtype) + 0.5) * 2 / size[1] - 1
    base = torch.stack(torch.meshgrid(cols, rows, indexing="xy"), dim=-1)
    grid = base.unsqueeze(0) + (offset.to(x.dtype) * 2 / size).view(-1, 1, 1, 2)
    return F.grid_sample(padded, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def drq_random_shift(
    x: torch.Tensor, pad: int, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """:func:`drq_shift` with per-sample offsets drawn uniformly from ``[0, 2 * pad]``.

    Example:
        >>> import torch
        >>> drq_random_shift(torch.rand(8, 3, 16, 16), pad=2).shape
        torch.Size([8, 3, 16, 16])
    """
    device = generator.device if generator is not None else x.device
    offset = torch.randint(0, 2 * pad + 1, (x.shape[0], 2), generator=generator, device=device)
    return drq_shift(x, offset.to(x.device), pad)


def median_ms(
    fns: dict[str, Callable[[], object]],
    *,
    device: torch.device,
    budget_s: float = 1.2,
    warmup: int = 2,
    max_rounds: int = 200,
) -> dict[str, float]:
    """Median wall time of each callable in milliseconds, measured in interleaved rounds.

    Each round times every callable once, so a busy spell on a shared machine slows all of
    them alike; rounds continue until ``budget_s`` is spent (at least three).
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    deadline = time.perf_counter() + budget_s
    rounds = 0
    while rounds < 3 or (rounds < max_rounds and time.perf_counter() < deadline):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times[name].append((time.perf_counter() - start) * 1e3)
        rounds += 1
    return {name: statistics.median(values) for name, values in times.items()}


@dataclass(frozen=True)
class Headline:
    """Milliseconds per batch of the three methods :func:`speed_headline` compares."""

    shape: tuple[int, int, int, int]
    shiftaug_ms: float
    drq_ms: float
    kornia_ms: float
    threads: int = 1
    load: float | None = None  # 1-minute load average during the measurement, where known

    def lines(self) -> list[str]:
        fastest_peer = min(self.drq_ms, self.kornia_ms)
        shape = "x".join(map(str, self.shape))
        lines = [
            f"Per-sample random translation of a {shape} float32 batch (median ms per batch):",
            f"  shiftaug RandomTranslate (nearest, exact)   {self.shiftaug_ms:8.2f} ms",
            f"  DrQ-v2 random shift (pad + grid_sample)     {self.drq_ms:8.2f} ms",
            f"  kornia RandomAffine(translate)              {self.kornia_ms:8.2f} ms",
            f"  -> shiftaug runs at {fastest_peer / self.shiftaug_ms:.1f}x the speed of the "
            "faster of the other two (all peers: benchmarks/translate.py)",
        ]
        cores = os.cpu_count() or 1
        if self.load is not None and self.load > cores:
            lines.append(
                f"  (the machine is busy: load average {self.load:.1f} on {cores} cores with "
                f"{self.threads} torch threads, so these numbers are noisy)"
            )
        return lines


def speed_headline(
    shape: tuple[int, int, int, int] = (256, 3, 32, 32),
    *,
    device: torch.device | str = "cpu",
    seed: int = 0,
    budget_s: float = 1.2,
) -> Headline:
    """Time shiftaug, DrQ-v2 and kornia on one batch with shifts up to 1/8 of the size.

    Example:
        >>> headline = speed_headline((4, 3, 8, 8), budget_s=0.0)
        >>> headline.shiftaug_ms > 0
        True
    """
    import kornia.augmentation as K

    from .transforms import RandomTranslate

    device = torch.device(device)
    generator = torch.Generator(device=device).manual_seed(seed)
    x = torch.rand(shape, generator=generator, device=device)
    pad = max(1, shape[-1] // 8)
    ours = RandomTranslate(shift_px=pad, generator=generator)
    kornia = K.RandomAffine(degrees=0.0, translate=(1 / 8, 1 / 8), p=1.0)
    torch.manual_seed(seed)  # kornia draws from the global generator
    ms = median_ms(
        {
            "shiftaug": lambda: ours(x),
            "drq": lambda: drq_random_shift(x, pad, generator=generator),
            "kornia": lambda: kornia(x),
        },
        device=device,
        budget_s=budget_s,
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return Headline(shape, ms["shiftaug"], ms["drq"], ms["kornia"], torch.get_num_threads(), load)
