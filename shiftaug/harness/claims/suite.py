"""Suites: several experiments (``parts``) that share defaults, run into one folder.

A suite YAML has ``name``, ``defaults`` (any experiment config keys) and ``parts`` (a mapping
from part name to config keys that override the defaults)::

    name: claims
    defaults: {data: {dataset: mnist, canvas: 32}, seeds: [0, 1, 2]}
    parts:
      pooling: {runs: [{models: [cnn, cnn_blur], arms: [none]}]}

``--set`` overrides apply to every part. Each part is an ordinary experiment in
``OUT/<part>/`` (resumable, with its own report); the suite's summary is written last.
With ``jobs > 1`` (``--jobs``; by default one per usable core) the parts run in that many
worker processes at once, started in the order listed (list the long ones first), each with
its part's ``train.threads``; a run's results do not depend on which process ran it.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import resource
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
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

__all__ = ["Suite", "default_jobs", "load_suite", "run_suite"]

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


def default_jobs(suite: Suite) -> int:
    """Worker processes for a suite: one per usable core (affinity mask, container quota),
    at most one per part.

    Example:
        >>> from shiftaug.harness.claims.suite import default_jobs, load_suite
        >>> 1 <= default_jobs(load_suite("claims")[1]) <= 11
        True
    """
    from ..train import _usable_cores

    return max(1, min(_usable_cores(), len(suite)))


def run_suite(
    name: str,
    suite: Suite,
    out: str | Path,
    *,
    progress: bool = True,
    jobs: int = 1,
) -> Path:
    """Run every part into ``OUT/<part>/`` and write the claims summary.

    Args:
        name: the suite's name (the summary's title).
        suite: ``{part: config}`` from :func:`load_suite`.
        out: the output folder (created; reused to resume).
        progress: progress bars (with ``jobs > 1``: one line per finished part instead).
        jobs: parts run at once, each in its own process; 1 runs them one after the other
            in this process.

    Returns:
        The path of ``claims.md``.
    """
    from .report import write_claims

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"`jobs` must be an int >= 1, but got {jobs!r}.")
    out = Path(out)
    start, load = time.perf_counter(), os.getloadavg()
    cpu0 = _own_cpu()
    timing: dict[str, Any] = {"load_before": load[0], "jobs": jobs, "parts": {}}
    if jobs == 1:
        for part, cfg in suite.items():
            if progress:
                print(f"== part {part}: {len(cfg.grid())} runs", flush=True)
            timing["parts"][part] = _run_part(cfg, out / part, progress)
    else:
        timing["parts"] = _run_parallel(suite, out, jobs)
    cpu = _own_cpu() - cpu0
    if jobs > 1:  # the workers' CPU time, as each measured it for its parts
        cpu += sum(p["cpu_s"] for p in timing["parts"].values())
    timing.update(wall_s=time.perf_counter() - start, cpu_s=cpu, load_after=os.getloadavg()[0])
    return write_claims(out, name, list(suite), timing=timing)


def _run_part(cfg: ExperimentConfig, folder: Path, progress: bool) -> dict[str, float]:
    """Run one part (in this process); its wall and CPU seconds."""
    from ..experiment import run_experiment

    t0, c0 = time.perf_counter(), _own_cpu()
    run_experiment(cfg, folder, progress=progress)
    return {"wall_s": time.perf_counter() - t0, "cpu_s": _own_cpu() - c0}


def _run_parallel(suite: Suite, out: Path, jobs: int) -> dict[str, dict[str, float]]:
    """Every part in a pool of ``jobs`` fresh (spawned) processes; one line per finished part."""
    done: dict[str, dict[str, float]] = {}
    print(f"== {len(suite)} parts, {jobs} at a time", flush=True)
    context = multiprocessing.get_context("spawn")  # no forked copy of a threaded torch
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
    try:
        futures: dict[Future[dict[str, float]], str] = {
            pool.submit(_run_part, cfg, out / part, False): part for part, cfg in suite.items()
        }
        for future in as_completed(futures):
            part = futures[future]
            done[part] = future.result()
            print(
                f"== part {part} finished ({len(suite[part].grid())} runs, "
                f"{done[part]['wall_s']:.0f} s, {len(done)}/{len(suite)} parts)",
                flush=True,
            )
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # finished runs are kept: rerun resumes
        raise
    pool.shutdown()
    return {part: done[part] for part in suite}  # in the suite's order


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
