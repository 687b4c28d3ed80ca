"""Experiment configuration: dataclasses, YAML presets and ``key.sub=value`` overrides.

A config is built in layers: the dataclass defaults, then a preset from ``shiftaug/configs/``
(``--preset``), then a YAML file (``--config``), then command-line overrides (``--set``). Every
key is checked: a misspelt key is an error, never silently ignored. YAML is read with
:func:`yaml.safe_load` only.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .._checks import describe

__all__ = [
    "BACKGROUNDS",
    "DATASETS",
    "POSITIONS",
    "ArmConfig",
    "DataConfig",
    "EvalConfig",
    "ExperimentConfig",
    "RunBlock",
    "TrainConfig",
    "apply_overrides",
    "available_presets",
    "config_from_dict",
    "config_to_dict",
    "load_config",
]


DATASETS = ("mnist", "sklearn", "probe", "cifar10", "imagefolder")
BACKGROUNDS = ("black", "noise", "texture")
POSITIONS = ("centre", "region", "full")


@dataclass
class DataConfig:
    """What the models see. Canvas datasets place small objects on a larger canvas."""

    dataset: str = "mnist"  # mnist | sklearn | probe | cifar10 | imagefolder
    data_root: str | None = None  # cifar10 / imagefolder only; never downloaded
    canvas: int = 40  # canvas side in pixels (natural datasets: resize target)
    object_size: int = 14  # digits are resized to this side
    background: str = "black"  # black | noise | texture
    positions: str = "centre"  # training positions: centre | region | full
    jitter: int = 2  # px around the centre for positions="centre"
    region: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.5, 0.5])  # x0 y0 x1 y1
    train_size: int = 4000
    test_size: int = 1000
    seed: int = 0  # the data split and rendering; model seeds are separate


@dataclass
class ArmConfig:
    """Options of the augmentation arms (see :mod:`shiftaug.harness.arms`)."""

    translate_px: int | None = None  # None: far enough to reach the whole canvas
    jitter_px: int = 3
    roll_frac: float = 0.5
    crop_padding: int = 4
    inpainter: str = "harmonic"  # hole filling of the relocate arm
    rotate_degrees: float = 180.0  # the rotate arm: angles uniform in [-d, d]


@dataclass
class TrainConfig:
    """Optimisation (AdamW, linear warm-up and decay); each default's reason beside it."""

    epochs: int = 6  # the quick preset's CNNs plateau after ~5 epochs of 4000 canvases
    batch_size: int = 128  # large enough to keep a CPU busy, small enough for many steps
    lr: float = 2e-3  # AdamW peak rate that trains the small CNNs and ViTs alike from scratch
    weight_decay: float = 5e-4  # light regularisation; the datasets are small
    warmup: float = 0.2  # fraction of steps warming up: ViTs need it, CNNs do not mind
    label_smoothing: float = 0.0  # off: consistency and flip rates read the raw top-1
    device: str = "auto"  # auto | cpu | cuda | cuda:1 | mps
    amp: bool = False  # bfloat16 autocast on CUDA
    threads: int = 0  # torch CPU threads; 0: the cores free now (see harness.train.pick_threads)
    per_model: dict[str, dict[str, Any]] = field(default_factory=dict)  # {vit: {epochs: 15}}

    def for_model(self, name: str) -> TrainConfig:
        """These settings with ``per_model[name]``'s overrides applied (keys checked)."""
        base = {k: v for k, v in dataclasses.asdict(self).items() if k != "per_model"}
        return _build(
            TrainConfig, {**base, **self.per_model.get(name, {})}, f"train.per_model.{name}."
        )


@dataclass
class EvalConfig:
    """How much evaluation each run gets (see :mod:`shiftaug.harness.metrics`)."""

    max_shift: int = 8  # shifts a, b in {-S..S}^2 for consistency, flips and worst-of-k
    images: int = 256  # test images for the shift metrics
    grid_step: int = 1  # px between heatmap positions; > 1: a random sub-grid per object
    grid_images: int = 32  # objects rendered at every grid position (standard errors over them)
    worst_of: int = 10
    layer_objects: int = 16  # embedding invariance: objects x positions
    layer_positions: int = 8
    batch_size: int = 512
    logit_images: int = 8  # images for the untrained network's logit-level shift check
    small_shift: int = 2  # worst case over every shift in {-s..s}^2 (small_shift_accuracy)
    extras: list[str] = field(default_factory=list)  # equivariance rotation stn pairs stretch


@dataclass
class RunBlock:
    """A block of the grid: every model with every arm."""

    models: list[str]
    arms: list[str]


@dataclass
class ExperimentConfig:
    """The whole experiment: the grid ``runs x seeds`` and the settings shared by its runs."""

    name: str = "custom"
    runs: list[RunBlock] = field(default_factory=lambda: [RunBlock(["cnn"], ["none"])])
    seeds: list[int] = field(default_factory=lambda: [0])
    model_defs: dict[str, dict[str, Any]] = field(default_factory=dict)
    data: DataConfig = field(default_factory=DataConfig)
    arms: ArmConfig = field(default_factory=ArmConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def grid(self) -> list[tuple[str, str, int]]:
        """Every ``(model, arm, seed)``, without repeats, in config order."""
        cells = [(m, a, s) for b in self.runs for m in b.models for a in b.arms for s in self.seeds]
        return list(dict.fromkeys(cells))


_Rule = tuple[Callable[[Any], bool], str]
_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")
_SEED_MAX = 2**32 - 1


def _at_least(low: float) -> _Rule:
    return (lambda v: v >= low, f">= {low}")


def _within(low: float, high: float) -> _Rule:
    return (lambda v: low <= v <= high, f"in [{low}, {high}]")


def _one_of(choices: Sequence[str]) -> _Rule:
    return (lambda v: v in choices, f"one of {tuple(choices)}")


def _names(v: list[str]) -> bool:
    return bool(v) and all(isinstance(n, str) and n.strip() for n in v)


def _region(r: list[float]) -> bool:
    return len(r) == 4 and all(0 <= v <= 1 for v in r) and r[0] <= r[2] and r[1] <= r[3]


# The allowed values of every key, checked wherever a section is built (a preset, a file,
# --set, train.per_model), so a bad value is named by its key before anything runs.
_RULES: dict[tuple[type, str], _Rule] = {
    (DataConfig, "dataset"): _one_of(DATASETS),
    (DataConfig, "canvas"): _at_least(1),
    (DataConfig, "object_size"): _at_least(1),
    (DataConfig, "background"): _one_of(BACKGROUNDS),
    (DataConfig, "positions"): _one_of(POSITIONS),
    (DataConfig, "jitter"): _at_least(0),
    (DataConfig, "region"): (
        _region,
        "[x0, y0, x1, y1] with 0 <= x0 <= x1 <= 1, 0 <= y0 <= y1 <= 1",
    ),
    (DataConfig, "train_size"): _at_least(1),
    (DataConfig, "test_size"): _at_least(1),
    (DataConfig, "seed"): _within(0, _SEED_MAX),
    (ArmConfig, "translate_px"): _at_least(0),
    (ArmConfig, "jitter_px"): _at_least(0),
    (ArmConfig, "roll_frac"): _within(0, 1),
    (ArmConfig, "crop_padding"): _at_least(0),
    (ArmConfig, "inpainter"): (lambda v: bool(v.strip()), "a backend name"),
    (ArmConfig, "rotate_degrees"): _within(0, 180),
    (TrainConfig, "epochs"): _at_least(1),
    (TrainConfig, "batch_size"): _at_least(1),
    (TrainConfig, "lr"): (lambda v: v > 0, "> 0"),
    (TrainConfig, "weight_decay"): _at_least(0),
    (TrainConfig, "warmup"): _within(0, 1),
    (TrainConfig, "label_smoothing"): (lambda v: 0 <= v < 1, "in [0, 1)"),
    (TrainConfig, "device"): (
        lambda v: _DEVICE.fullmatch(v) is not None,
        "auto, cpu, mps, cuda or cuda:<index>",
    ),
    (TrainConfig, "threads"): _at_least(0),
    (EvalConfig, "max_shift"): _at_least(1),
    (EvalConfig, "images"): _at_least(1),
    (EvalConfig, "grid_step"): _at_least(1),
    (EvalConfig, "grid_images"): _at_least(1),
    (EvalConfig, "worst_of"): _at_least(1),
    (EvalConfig, "layer_objects"): (lambda v: v == 0 or v >= 2, "0 (off) or >= 2"),
    (EvalConfig, "layer_positions"): (lambda v: v == 0 or v >= 2, "0 (off) or >= 2"),
    (EvalConfig, "batch_size"): _at_least(1),
    (EvalConfig, "logit_images"): _at_least(1),
    (EvalConfig, "small_shift"): _at_least(0),
    (EvalConfig, "extras"): (
        lambda v: all(x in ("equivariance", "rotation", "stn", "pairs", "stretch") for x in v),
        "a list of equivariance, rotation, stn, pairs, stretch",
    ),
    (RunBlock, "models"): (_names, "a non-empty list of model names"),
    (RunBlock, "arms"): (_names, "a non-empty list of arm names"),
    (ExperimentConfig, "name"): (lambda v: bool(v.strip()), "a non-empty name"),
    (ExperimentConfig, "runs"): (bool, "a non-empty list of blocks"),
    (ExperimentConfig, "seeds"): (
        lambda v: bool(v) and all(0 <= s <= _SEED_MAX for s in v),
        f"a non-empty list of seeds in [0, {_SEED_MAX}]",
    ),
}


def available_presets() -> list[str]:
    """Names of the YAML presets shipped in ``shiftaug/configs``."""
    folder = resources.files("shiftaug") / "configs"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_config(
    preset: str | None = None,
    path: str | Path | None = None,
    overrides: Sequence[str] = (),
) -> ExperimentConfig:
    """Build a config from defaults, a preset, a YAML file and ``key.sub=value`` overrides.

    Example:
        >>> from shiftaug.harness.config import load_config
        >>> cfg = load_config("smoke", overrides=["train.epochs=1", "seeds=[0, 1]"])
        >>> cfg.train.epochs, cfg.seeds
        (1, [0, 1])
    """
    import yaml

    data: dict[str, Any] = {}
    if preset is not None:
        if preset not in available_presets():
            raise ValueError(f"`preset` must be one of {available_presets()}, but got {preset!r}.")
        text = (resources.files("shiftaug") / "configs" / f"{preset}.yaml").read_text()
        _merge(data, _mapping(yaml.safe_load(text), f"preset {preset!r}"))
    if path is not None:
        _merge(data, _mapping(yaml.safe_load(Path(path).read_text()), str(path)))
    apply_overrides(data, overrides)
    return config_from_dict(data)


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> None:
    """Set ``key.sub=value`` overrides (values parsed as YAML) in the nested dict ``data``.

    Example:
        >>> from shiftaug.harness.config import apply_overrides
        >>> data = {"train": {"epochs": 6}}
        >>> apply_overrides(data, ["train.epochs=2", "seeds=[0, 1]"])
        >>> data
        {'train': {'epochs': 2}, 'seeds': [0, 1]}
    """
    import yaml

    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"`--set` must be KEY=VALUE, but got {item!r}.")
        node = data
        *parents, leaf = key.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"`{key}` must name a config key, but {part!r} is not a section.")
        node[leaf] = yaml.safe_load(value)


def config_from_dict(data: dict[str, Any]) -> ExperimentConfig:
    """Check every key, type and value of ``data`` and build the config.

    Raises:
        ValueError: naming the first key whose value is missing, misspelt, of the wrong type or
            out of range.
    """
    cfg: ExperimentConfig = _build(ExperimentConfig, data, "")
    for name, overrides in cfg.train.per_model.items():
        for key in ("device", "threads"):
            if key in overrides:
                raise ValueError(
                    f"`train.per_model.{name}.{key}` must not be set per model (it applies to the "
                    f"whole experiment: use train.{key}), but got {overrides[key]!r}."
                )
        cfg.train.for_model(name)  # the overrides' keys and values
    canvas = cfg.data.dataset not in ("cifar10", "imagefolder")
    if canvas and cfg.data.data_root is not None:  # would be ignored without a word
        raise ValueError(
            f"`data.data_root` must be unset for the {cfg.data.dataset!r} dataset (only cifar10 "
            f"and imagefolder read it), but got {cfg.data.data_root!r}; set data.dataset too."
        )
    if canvas and cfg.data.object_size > cfg.data.canvas:
        raise ValueError(
            f"`data.object_size` must be <= data.canvas={cfg.data.canvas}, but got "
            f"{cfg.data.object_size}."
        )
    return cfg


def config_to_dict(cfg: ExperimentConfig) -> dict[str, Any]:
    """Plain dict of ``cfg`` (what is saved next to the results)."""
    return dataclasses.asdict(cfg)


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"`{where}` must hold a YAML mapping, but got {describe(value)}.")
    return value


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict) and key != "per_model":
            _merge(base[key], value)
        else:
            base[key] = value


def _build(cls: Any, data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ValueError(
            f"`{prefix.rstrip('.') or 'config'}` must be a mapping, but got {describe(data)}."
        )
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name, f in fields.items():
        if (
            name not in data
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ):
            raise ValueError(f"`{prefix}{name}` must be given, but it is missing.")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            raise ValueError(
                f"`{prefix}{key}` must be one of the config keys {sorted(fields)}, but got {key!r}."
            )
        kwargs[key] = _coerce(hints[key], value, f"{prefix}{key}")
        rule = _RULES.get((cls, key))
        if rule is not None and kwargs[key] is not None and not rule[0](kwargs[key]):
            raise ValueError(f"`{prefix}{key}` must be {rule[1]}, but got {describe(value)}.")
    return cls(**kwargs)


def _finite(value: int | float | str, name: str) -> float:
    """A float config value: ints and numeric strings too (YAML reads ``1e-3`` as a string)."""
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"`{name}` must be of type float, but got {describe(value)}.") from None
    if not math.isfinite(number):
        raise ValueError(f"`{name}` must be a finite number, but got {describe(value)}.")
    return number


def _coerce(hint: Any, value: Any, name: str) -> Any:
    """Check ``value`` against a type hint; build nested dataclasses; ints are accepted as floats."""
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, name + ".")
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return _coerce(next(a for a in args if a is not type(None)), value, name)
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"`{name}` must be a list, but got {describe(value)}.")
        return [_coerce(args[0], v, f"{name}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"`{name}` must be a mapping, but got {describe(value)}.")
        return {str(k): v for k, v in value.items()}
    if hint is float and not isinstance(value, bool) and isinstance(value, (int, float, str)):
        return _finite(value, name)
    if hint is Any or (isinstance(value, hint) and not (hint is int and isinstance(value, bool))):
        return value
    raise ValueError(f"`{name}` must be of type {hint.__name__}, but got {describe(value)}.")
