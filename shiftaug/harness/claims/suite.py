"""Suites: several experiments (``parts``) that share defaults, run into one folder.

A suite YAML has ``name``, ``defaults`` (any experiment config keys) and ``parts`` (a mapping
from part name to config keys that override the defaults)::

    name: claims
    defaults: {data: {dataset: mnist, canvas: 32}, seeds: [0, 1, 2]}
    parts:
      pooling: {runs: [{models: [cnn, cnn_blur], arms: [none]}]}

``--set`` overrides apply to every part. Each part is an ordinary experiment in
``OUT/<part>/`` (resumable, with its own report); the suite's summary is written last.
"""

from __future__ import annotations

import copy
import os
import resource
import time
from importlib import resources
from pathlib import Path
from typing import Any

from ..config import (
    ExperimentConfig,
    _mapping,
    _merge,
    apply_overrides,
    available_presets,
    config_from_dict,
)

__all__ = ["Suite", "load_suite", "run_suite"]

Suite = dict[str, ExperimentConfig]


def _read(preset: str | None, path: str | Path | None) -> dict[str, Any]:
    import yaml

    if path is not None:
        return _mapping(yaml.safe_load(Path(path).read_text()), str(path))
    if preset is None or preset not in available_presets():
        return {}
    text = (resources.files("shiftaug") / "configs" / f"{preset}.yaml").read_text()
    return _mapping(yaml.safe_load(text), f"preset {preset!r}")


def load_suite(
    preset: str | None, path: str | Path | None = None, overrides: list[str] | None = None
) -> tuple[str, Suite] | None:
    """``(name, {part: config})`` if the preset / file is a suite, else ``None``.

    Example:
        >>> from shiftaug.harness.claims.suite import load_suite
        >>> name, parts = load_suite("claims", overrides=["seeds=[0]"])
        >>> name, parts["conv"].seeds
        ('claims', [0])
        >>> load_suite("quick") is None
        True
    """
    raw = _read(preset, path)
    if "parts" not in raw:
        return None
    unknown = set(raw) - {"name", "defaults", "parts"}
    if unknown:
        raise ValueError(
            f"`suite` keys must be name, defaults and parts, but got {sorted(unknown)}."
        )
    parts = _mapping(raw["parts"], "parts")
    if not parts:
        raise ValueError("`parts` must name at least one experiment, but it is empty.")
    name = str(raw.get("name", preset or "suite"))
    suite: Suite = {}
    for part, extra in parts.items():
        data = copy.deepcopy(_mapping(raw.get("defaults"), "defaults"))
        _merge(data, copy.deepcopy(_mapping(extra, f"parts.{part}")))
        data["name"] = f"{name}/{part}"
        apply_overrides(data, overrides or [])
        try:
            suite[str(part)] = config_from_dict(data)
        except ValueError as error:
            raise ValueError(f"part {part!r}: {error}") from None
    return name, suite


def run_suite(name: str, suite: Suite, out: str | Path, *, progress: bool = True) -> Path:
    """Run every part into ``OUT/<part>/`` and write the claims summary; returns claims.md."""
    from ..experiment import run_experiment
    from .report import write_claims

    out = Path(out)
    start, load = time.perf_counter(), os.getloadavg()
    cpu0 = _cpu()
    timing: dict[str, Any] = {"load_before": load[0], "parts": {}}
    for part, cfg in suite.items():
        t0, c0 = time.perf_counter(), _cpu()
        if progress:
            print(f"== part {part}: {len(cfg.grid())} runs", flush=True)
        run_experiment(cfg, out / part, progress=progress)
        timing["parts"][part] = {"wall_s": time.perf_counter() - t0, "cpu_s": _cpu() - c0}
    timing.update(
        wall_s=time.perf_counter() - start, cpu_s=_cpu() - cpu0, load_after=os.getloadavg()[0]
    )
    return write_claims(out, name, list(suite), timing=timing)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
