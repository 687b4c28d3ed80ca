"""Run the grid ``model x arm x seed``: train, checkpoint, evaluate, collect, report.

Output folder layout::

    OUT/config.yaml                  the resolved config (what was asked for)
    OUT/results.json                 every finished run: model, arm, seed, metrics, curves
    OUT/report.md, OUT/plots/*.png   rebuilt from results.json by ``shiftaug report``
    OUT/runs/<model>__<arm>__seed<s>/checkpoint.pt   weights + optimizer after each epoch
    OUT/runs/<model>__<arm>__seed<s>/result.json     the run's record once it is evaluated

Rerunning the same command skips finished runs, resumes unfinished ones from their last epoch
and retrains a run whose checkpoint is unreadable or does not fit its model; all writes are
atomic. A resumed run continues bit for bit only with the thread count, device and process
count it started with: each checkpoint records them, a resume with ``train.threads: 0`` (auto)
takes the recorded thread count, and a resume that differs otherwise is refused. Before the
first run trains, every model and arm of the grid is built once, so a bad name fails at once.
One experiment at a time may write to a folder (:class:`~shiftaug.harness.store.FolderLock`).
Under ``torchrun`` every process trains (DDP) and only rank 0 evaluates and writes.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from .. import __version__
from .._checks import check_choice
from .arms import ARMS, make_arm
from .config import ExperimentConfig, config_from_dict, config_to_dict
from .data import Task, make_task
from .evaluate import evaluate, init_metrics
from .models import build_model, receptive_field, resolve_spec
from .store import (
    FolderLock,
    FolderLockedError,
    ResultsError,
    load_checkpoint,
    read_json,
    save_checkpoint,
    write_json,
)
from .train import pick_threads, train

__all__ = ["RESULTS_SCHEMA", "ResumeError", "run_experiment", "run_key"]

RESULTS_SCHEMA = "shiftaug.results/1"
# Settings that may change between invocations on the same folder without invalidating runs.
_FREE_KEYS = ("name", "runs", "seeds")
_FREE_TRAIN_KEYS = ("device", "threads")


class ResumeError(ValueError):
    """A run would resume with another thread count, device or process count than it began."""


@dataclass(frozen=True)
class _Dist:
    rank: int
    world: int
    device: torch.device

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()

    def agree(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank."""
        if self.world == 1:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]


def run_key(model: str, arm: str, seed: int) -> str:
    """Folder name of a run, e.g. ``cnn__translate__seed0``."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"{model}__{arm}__seed{seed}")


def _check_device(device: str) -> None:
    """A clear error for a device this machine does not have (config checks the spelling)."""
    kind, _, index = device.partition(":")
    if kind == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (index and int(index) >= count):
            raise ValueError(
                f"`train.device` must be a device of this machine, but got {device!r} and torch "
                f"{torch.__version__} sees {count} CUDA device(s); use --device cpu or auto."
            )
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            "`train.device` must be a device of this machine, but got 'mps' and MPS is not "
            "available; use --device cpu or auto."
        )


def _setup(device: str) -> _Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    _check_device(device)
    dev = torch.device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", local)  # one GPU per torchrun process
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        # Rank 0 evaluates while the others wait at a barrier: allow long evaluations.
        dist.init_process_group(backend, timeout=timedelta(hours=2))
    return _Dist(dist.get_rank() if world > 1 else 0, world, dev)


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in data.items() if k not in _FREE_KEYS}
    data["train"] = {k: v for k, v in data["train"].items() if k not in _FREE_TRAIN_KEYS}
    return data


def _prepare_out(out: Path, cfg: ExperimentConfig) -> None:
    """Refuse to mix runs of different configs in one folder; save the resolved config."""
    import yaml

    path = out / "config.yaml"
    current = config_to_dict(cfg)
    if path.exists():
        try:
            saved = config_to_dict(config_from_dict(yaml.safe_load(path.read_text())))
        except (yaml.YAMLError, ValueError, TypeError) as error:
            raise ResultsError(
                f"`{path}` must be a config the harness wrote, but: {error}"
            ) from None
        old, new = _comparable(saved), _comparable(current)
        if old != new:
            diff = [k for k in new if old.get(k) != new[k]]
            raise ValueError(
                f"`--out` {out} must hold runs of the same config, but it was made with different "
                f"{', '.join(diff)} settings; use another --out or delete the folder."
            )
    text = yaml.safe_dump(current, sort_keys=False)
    from .store import atomic_write

    atomic_write(path, lambda f: f.write(text.encode()))


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _environment(d: _Dist) -> dict[str, Any]:
    name = torch.cuda.get_device_name(d.device) if d.device.type == "cuda" else _cpu_name()
    return {
        "shiftaug": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(d.device),
        "device_name": name,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "world_size": d.world,
    }


def _finished(path: Path) -> dict[str, Any] | None:
    try:
        record = read_json(path)
    except ResultsError:
        return None  # missing or truncated: evaluate (or train) again
    return record if isinstance(record, dict) and isinstance(record.get("metrics"), dict) else None


def _check_names(cfg: ExperimentConfig) -> None:
    """Every model and arm name of the grid (and of ``train.per_model``) exists."""
    for name in [*dict.fromkeys(m for m, _, _ in cfg.grid()), *cfg.train.per_model]:
        resolve_spec(name, cfg.model_defs)
    for arm in dict.fromkeys(a for _, a, _ in cfg.grid()):
        check_choice("arm", arm, ARMS)


def _check_grid(cfg: ExperimentConfig, task: Task) -> None:
    """Build every model and arm of the grid once (on the CPU) so that a bad option fails
    before the first run trains, not hours into the grid."""
    for name in dict.fromkeys(m for m, _, _ in cfg.grid()):
        build_model(
            name,
            in_channels=task.channels,
            num_classes=task.num_classes,
            image_size=task.image_size,
            presets=cfg.model_defs,
        )
    for arm in dict.fromkeys(a for _, a, _ in cfg.grid()):
        make_arm(arm, cfg.arms, task, generator=torch.Generator())


@contextlib.contextmanager
def _resume_threads(
    checkpoint: dict[str, Any] | None, cfg_threads: int, d: _Dist
) -> Iterator[None]:
    """Resume on the thread count, device and process count the checkpoint was made with."""
    before = torch.get_num_threads()
    if checkpoint is not None:
        saved = (checkpoint.get("threads"), checkpoint.get("device"), checkpoint.get("world"))
        if cfg_threads == 0 and saved[0]:  # auto: take the recorded count
            torch.set_num_threads(int(saved[0]))
        now = (torch.get_num_threads(), str(d.device), d.world)
        if saved[0] is not None and saved != now:
            raise ResumeError(
                f"a resumed run must continue with the threads, device and processes it started "
                f"with, {saved[0]} / {saved[1]} / {saved[2]}, but this one has {now[0]} / "
                f"{now[1]} / {now[2]}: it would not reproduce an uninterrupted run. Rerun with "
                f"--set train.threads={saved[0]} --device {saved[1]} (and {saved[2]} processes), "
                "or delete the run's folder under runs/ to train it again."
            )
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _run_one(
    cfg: ExperimentConfig,
    task: Task,
    cell: tuple[str, str, int],
    run_dir: Path,
    d: _Dist,
    progress: bool,
) -> dict[str, Any] | None:
    model_name, arm_name, seed = cell
    tcfg = cfg.train.for_model(model_name)
    torch.manual_seed(seed)  # the initial weights
    model = build_model(
        model_name,
        in_channels=task.channels,
        num_classes=task.num_classes,
        image_size=task.image_size,
        presets=cfg.model_defs,
    )
    init = init_metrics(model, task, cfg.eval, seed=cfg.data.seed) if d.rank == 0 else {}
    model.to(d.device)
    generator = torch.Generator(d.device)
    arm = make_arm(arm_name, cfg.arms, task, generator=generator)
    net: torch.nn.Module = model
    if d.world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)
    ckpt_path = run_dir / "checkpoint.pt"
    if d.rank == 0:  # a process killed while writing leaves its temporary file behind
        for stale in run_dir.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
    on_epoch = (lambda ck: save_checkpoint(ckpt_path, ck)) if d.rank == 0 else None
    checkpoint = load_checkpoint(ckpt_path)
    with _resume_threads(checkpoint, cfg.train.threads, d):
        threads = torch.get_num_threads()
        state = train(
            net,
            task,
            arm,
            tcfg,
            seed=seed,
            device=d.device,
            generator=generator,
            checkpoint=checkpoint,
            on_epoch=on_epoch,
            rank=d.rank,
            world=d.world,
            progress=progress,
        )
    d.barrier()
    if d.rank != 0:
        d.barrier()
        return None
    start = time.perf_counter()
    metrics, curves = evaluate(model, task, cfg.eval, seed=cfg.data.seed)
    metrics.update(
        **init,
        aug_overhead=state.aug_overhead,
        train_time_s=state.train_time_s,
        eval_time_s=time.perf_counter() - start,
    )
    record = {
        "key": run_dir.name,
        "model": model_name,
        "arm": arm_name,
        "seed": seed,
        "model_spec": resolve_spec(model_name, cfg.model_defs),
        "parameters": sum(p.numel() for p in model.parameters()),
        "receptive_field": receptive_field(model),
        "epochs": state.epoch,
        "steps": state.steps,
        "threads": threads,
        "device": str(d.device),
        "world": d.world,
        "losses": state.losses,
        "metrics": metrics,
        "curves": curves,
    }
    write_json(run_dir / "result.json", record)
    d.barrier()
    return record


def run_experiment(
    cfg: ExperimentConfig, out: str | Path, *, progress: bool = True
) -> list[dict[str, Any]]:
    """Run (or resume) every ``(model, arm, seed)`` of ``cfg`` and write results and report.

    Args:
        cfg: the experiment.
        out: the output folder (created; reused to resume).
        progress: show progress bars.

    Returns:
        The run records, in grid order (on ranks other than 0: an empty list).
    """
    out = Path(out)
    _check_names(cfg)  # before anything is written
    d = _setup(cfg.train.device)
    before = torch.get_num_threads()
    threads = pick_threads(cfg.train.threads)
    if cfg.train.threads == 0:  # auto: share the free cores among torchrun's local processes
        threads = max(1, threads // int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    torch.set_num_threads(threads)
    lock = FolderLock(out)

    def claim() -> None:
        lock.__enter__()
        _prepare_out(out, cfg)

    try:
        _everywhere(d, claim)  # an error on rank 0 stops every rank, not only rank 0
        return _run_grid(cfg, out, d, progress)
    finally:
        lock.__exit__()
        torch.set_num_threads(before)


def _everywhere(d: _Dist, step: Callable[[], object]) -> None:
    """Run ``step`` on rank 0 and raise what it raised on every rank (others would wait for rank
    0 at the next barrier until the process group's timeout)."""
    error: Exception | None = None
    if d.rank == 0:
        try:
            step()
        except (ValueError, TypeError, OSError, FolderLockedError) as caught:
            error = caught
    error = d.agree(error)
    if error is not None:
        raise error


def _run_grid(cfg: ExperimentConfig, out: Path, d: _Dist, progress: bool) -> list[dict[str, Any]]:
    from tqdm.auto import tqdm

    task = make_task(cfg.data, margin=cfg.eval.max_shift)
    _check_grid(cfg, task)
    records: list[dict[str, Any]] = []
    cells = cfg.grid()
    bar = tqdm(cells, desc="runs", disable=not progress or d.rank != 0)
    for cell in bar:
        run_dir = out / "runs" / run_key(*cell)
        bar.set_postfix_str(run_dir.name)
        record = d.agree(_finished(run_dir / "result.json") if d.rank == 0 else None)
        if record is None:
            record = _run_one(cfg, task, cell, run_dir, d, progress)
            if record is not None:
                m = record["metrics"]
                bar.write(
                    f"{run_dir.name}: accuracy {m['accuracy']:.3f}, consistency "
                    f"{m['consistency_crop']:.3f}, train {m['train_time_s']:.1f}s"
                )
        if d.rank == 0 and record is not None:
            records.append(record)
            write_json(
                out / "results.json",
                {
                    "schema": RESULTS_SCHEMA,
                    "name": cfg.name,
                    "config": config_to_dict(cfg),
                    "environment": _environment(d),
                    "complete": len(records) == len(cells),
                    "runs": records,
                },
            )
    if d.rank == 0:
        from .report import write_report

        write_report(out)
    d.barrier()
    return records
