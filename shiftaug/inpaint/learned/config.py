"""Settings of ``shiftaug train-inpainter``: a dataclass, YAML presets and ``key=value`` overrides.

Presets live in ``shiftaug/configs/inpainter/``: ``smoke`` (seconds, for tests), ``quick``
(the shipped 64 px model: 1000 steps on one CPU core, 45 min on a busy 2-core machine) and ``full`` (GPU scale).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .holes import HOLE_KINDS
from .network import COARSE_FILLS, NetConfig

__all__ = ["InpainterConfig", "inpainter_presets", "load_inpainter_config"]

FORMATS = ("safetensors", "pt")
# Keys that may change between invocations on one --out folder without breaking a resume.
FREE_KEYS = ("name", "steps", "device", "threads", "eval_every", "checkpoint_every", "format")


@dataclass
class InpainterConfig:
    """Everything a training run depends on; each default's reason beside it."""

    name: str = "custom"
    size: int = 64  # training crop side; the network runs at any size afterwards
    steps: int = 2000
    batch_size: int = 16  # global batch; split over torchrun processes
    lr: float = 5e-4  # Adam, generator and critic alike; constant, so runs can be extended
    betas: list[float] = field(default_factory=lambda: [0.5, 0.99])  # GAN-typical momentum
    net: NetConfig = field(default_factory=NetConfig)
    critic_width: int = 32
    critic_layers: int = 3
    rec_weight: float = 1.0  # L1 in the hole, per pixel
    low_weight: float = 1.0  # L1 of 4x4 block means in the hole: the low frequencies (PSNR)
    texture_weight: float = 0.0  # match the local high-frequency energy of the photo
    adv_weight: float = 0.05  # non-saturating GAN loss on patches that touch the hole
    fm_weight: float = 1.0  # critic feature matching (pix2pixHD): stabilises the GAN
    holes: list[str] = field(default_factory=lambda: list(HOLE_KINDS))
    zoom: list[float] = field(default_factory=lambda: [1.0, 3.0])  # source px per crop px
    data: str | None = None  # an image folder; None: the scikit-image photos
    holdout: float = 0.1  # folder data: fraction of files held out for evaluation
    eval_images: int = 64  # held-out crops scored at every evaluation
    eval_every: int = 250  # steps between evaluations (0: only at the end)
    checkpoint_every: int = 50  # steps between resumable checkpoints
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:1 | mps
    threads: int = 0  # torch CPU threads; 0 keeps torch's default
    amp: bool = False  # bfloat16 autocast on CUDA
    format: str = "safetensors"  # the model file written into --out: safetensors | pt

    def check(self) -> InpainterConfig:
        """Check values the type check cannot; returns ``self``."""
        from ..._checks import check_choice

        for name in ("size", "steps", "batch_size", "critic_width", "critic_layers", "eval_images"):
            value = getattr(self, name)
            if value < (8 if name == "size" else 1):
                raise ValueError(
                    f"`{name}` must be >= {8 if name == 'size' else 1}, but got {value}."
                )
        if not self.holes:
            raise ValueError(f"`holes` must name at least one of {HOLE_KINDS}, but got [].")
        for kind in self.holes:
            check_choice("holes", kind, HOLE_KINDS)
        check_choice("net.coarse", self.net.coarse, COARSE_FILLS)
        check_choice("format", self.format, FORMATS)
        if len(self.betas) != 2 or len(self.zoom) != 2 or not 0 < self.zoom[0] <= self.zoom[1]:
            raise ValueError(
                f"`betas` and `zoom` must be pairs (zoom: 0 < low <= high), but got "
                f"{self.betas!r} and {self.zoom!r}."
            )
        if not 0 <= self.holdout < 1:
            raise ValueError(f"`holdout` must be in [0, 1), but got {self.holdout!r}.")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def inpainter_presets() -> list[str]:
    """Names of the presets in ``shiftaug/configs/inpainter``."""
    folder = resources.files("shiftaug") / "configs" / "inpainter"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_inpainter_config(
    preset: str | None = "quick", path: str | Path | None = None, overrides: Sequence[str] = ()
) -> InpainterConfig:
    """Defaults, then a preset, then a YAML file, then ``key=value`` overrides; every key checked.

    Example:
        >>> from shiftaug.inpaint.learned import load_inpainter_config
        >>> cfg = load_inpainter_config("smoke", overrides=["steps=3", "net.width=4"])
        >>> cfg.steps, cfg.net.width, cfg.size
        (3, 4, 32)
    """
    import yaml

    from ...harness.config import _build, _mapping, _merge, apply_overrides

    data: dict[str, Any] = {}
    if preset is not None:
        if preset not in inpainter_presets():
            raise ValueError(f"`preset` must be one of {inpainter_presets()}, but got {preset!r}.")
        text = (
            resources.files("shiftaug") / "configs" / "inpainter" / f"{preset}.yaml"
        ).read_text()
        _merge(data, _mapping(yaml.safe_load(text), f"preset {preset!r}"))
    if path is not None:
        _merge(data, _mapping(yaml.safe_load(Path(path).read_text()), str(path)))
    apply_overrides(data, overrides)
    return _build(InpainterConfig, data, "").check()
