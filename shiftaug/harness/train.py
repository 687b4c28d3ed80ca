"""The training loop: short enough to read in one sitting (in the spirit of nanoGPT, airbench).

The whole training set sits on the device; each step slices a batch, augments it there in
one batched call, and takes an AdamW step. Per-epoch seeds fix the data order and the
augmentation draws, so a run resumed from its epoch checkpoint continues exactly as if it had
never stopped. Under ``torchrun`` every process takes its share of each batch and DDP averages
the gradients.
"""

from __future__ import annotations

import math
import os
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .arms import Arm
from .config import TrainConfig
from .data import Task

__all__ = ["TrainState", "as_float", "pick_threads", "train"]


@dataclass
class TrainState:
    """What a checkpoint holds besides the weights: progress and the timing totals."""

    epoch: int = 0
    steps: int = 0
    train_time_s: float = 0.0
    aug_time_s: float = 0.0
    step_time_s: float = 0.0
    losses: list[float] = field(default_factory=list)  # mean training loss per epoch
    aug_shares: list[float] = field(default_factory=list)  # per epoch: median share of a step

    @property
    def aug_overhead(self) -> float:
        """Fraction of a train step spent in augmentation: the median over epochs of each
        epoch's median over steps (each step's augmentation timed together with its own
        forward/backward pass), so a busy spell on a shared machine moves it little."""
        if self.aug_shares:
            return statistics.median(self.aug_shares)
        return self.aug_time_s / self.step_time_s if self.step_time_s > 0 else 0.0


def _usable_cores() -> int:
    """CPUs this process may use: its affinity mask, capped by a cgroup v2 CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return cores


def pick_threads(requested: int = 0) -> int:
    """The number of torch CPU threads to train with.

    ``requested`` (``train.threads``) if it is > 0; else the thread count ``OMP_NUM_THREADS``
    gave torch, if set; else the cores free now: the usable cores (affinity mask, container
    quota) minus the 1-minute load average, at least 1. More threads than free cores make
    every step wait on the others (on a 2-core machine at load 4-8 a preset took 10x longer).

    Example:
        >>> from shiftaug.harness.train import pick_threads
        >>> pick_threads(3)
        3
        >>> pick_threads() >= 1
        True
    """
    if requested > 0:
        return requested
    if os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    cores = _usable_cores()
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):  # Windows
        load = 0.0
    return max(1, min(cores, round(cores - load)))


def _misfit(checkpoint: dict[str, Any], model: nn.Module, opt: torch.optim.Optimizer) -> str:
    """Why ``checkpoint`` cannot resume ``model`` and ``opt`` (empty if it can), checked before
    anything is loaded, so a retrain starts from the same initial weights."""
    try:
        return _compare(checkpoint, model, opt)
    except (KeyError, TypeError, AttributeError) as error:
        return f"it is malformed ({type(error).__name__}: {error})"


def _compare(checkpoint: dict[str, Any], model: nn.Module, opt: torch.optim.Optimizer) -> str:
    own = getattr(model, "module", model).state_dict()
    saved = checkpoint["model"]
    if not isinstance(saved, dict) or saved.keys() != own.keys():
        return "its layers differ from the model's"
    for name, tensor in own.items():
        other = saved[name]
        if not isinstance(other, torch.Tensor) or other.shape != tensor.shape:
            return f"{name} has shape {getattr(other, 'shape', None)}, the model {tensor.shape}"
    groups = checkpoint["optimizer"].get("param_groups", [])
    if [len(g["params"]) for g in groups] != [len(g["params"]) for g in opt.param_groups]:
        return "its optimizer state belongs to other parameters"
    known = {f.name for f in fields(TrainState)}
    state = checkpoint["state"]
    if not isinstance(state, dict) or not state.keys() <= known:
        return "its training state is not this version's"
    return ""


def as_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 images to float in ``[0, 1]``; float images unchanged."""
    return images.float().div_(255) if images.dtype == torch.uint8 else images


def _sync(device: torch.device) -> None:
    if device.type == "cuda":  # timing needs the queued kernels finished
        torch.cuda.synchronize(device)


def _schedule(cfg: TrainConfig, total: int) -> Callable[[int], float]:
    # Linear warm-up then linear decay to zero: robust for CNNs and ViTs alike (airbench).
    warm = max(1, int(cfg.warmup * total))
    return lambda step: min((step + 1) / warm, max(0.0, (total - step) / max(1, total - warm)))


def train(
    model: nn.Module,
    task: Task,
    arm: Arm | None,
    cfg: TrainConfig,
    *,
    seed: int,
    device: torch.device,
    generator: torch.Generator | None = None,
    checkpoint: dict[str, Any] | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
    rank: int = 0,
    world: int = 1,
    progress: bool = True,
) -> TrainState:
    """Train ``model`` on ``task`` with augmentation ``arm``.

    Args:
        model: the network, already on ``device`` (DDP-wrapped under ``torchrun``).
        task: the data; its training tensors are moved to ``device`` once.
        arm: ``arm(images, masks) -> images`` or ``None``.
        cfg: optimisation settings.
        seed: fixes data order and augmentation draws (per epoch).
        device: the training device.
        generator: the arm's generator (reseeded every epoch).
        checkpoint: a dict saved by an earlier call (``on_epoch``), to resume from.
        on_epoch: called after every epoch with a checkpoint dict (weights, optimizer, state).
        rank: this process's index under ``torchrun``; ``world``: the number of processes.
        progress: show a progress bar.

    Returns:
        The final :class:`TrainState`.
    """
    from tqdm.auto import tqdm

    images, labels = task.train_images.to(device), task.train_labels.to(device)
    masks = task.train_masks.to(device) if task.train_masks is not None else None
    # drop_last: equal batch shapes every step (and equal shares for DDP ranks).
    steps_per_epoch = len(images) // cfg.batch_size
    if steps_per_epoch < 1 or cfg.batch_size % world:
        raise ValueError(
            f"`train.batch_size` must be <= {len(images)} training images and divisible by the "
            f"{world} processes, but got {cfg.batch_size}."
        )
    # AdamW: one learning rate that trains small CNNs and ViTs from scratch in a few epochs.
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _schedule(cfg, cfg.epochs * steps_per_epoch))
    state = TrainState()
    problem = _misfit(checkpoint, model, opt) if checkpoint is not None else ""
    if problem:
        warnings.warn(
            f"the checkpoint does not fit the model ({problem}); the run restarts from scratch.",
            RuntimeWarning,
            stacklevel=2,
        )
        checkpoint = None
    if checkpoint is not None:
        getattr(model, "module", model).load_state_dict(checkpoint["model"])
        opt.load_state_dict(checkpoint["optimizer"])
        sched.load_state_dict(checkpoint["scheduler"])
        state = TrainState(**checkpoint["state"])
    use_amp = cfg.amp and device.type == "cuda"
    model.train()
    for epoch in range(state.epoch, cfg.epochs):
        start = time.perf_counter()
        epoch_seed = seed * 100_003 + epoch  # identical on every rank and after a resume
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(epoch_seed))
        torch.manual_seed(epoch_seed)  # torchvision's transforms draw from the global RNG
        if generator is not None:
            generator.manual_seed(epoch_seed)
        total = 0.0
        shares = []
        bar = tqdm(
            range(steps_per_epoch),
            desc=f"epoch {epoch + 1}/{cfg.epochs}",
            leave=False,
            disable=not progress or rank != 0,
        )
        for step in bar:
            batch = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            index = batch[rank::world].to(device)  # this process's share of the global batch
            x, y = images[index], labels[index]
            m = masks[index] if masks is not None and arm is not None and arm.needs_masks else None
            _sync(device)
            t0 = time.perf_counter()
            if arm is not None:
                x = arm(x, m)
                _sync(device)
            t1 = time.perf_counter()
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                loss = F.cross_entropy(model(as_float(x)), y, label_smoothing=cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            _sync(device)
            step_time = time.perf_counter() - t0
            state.aug_time_s += t1 - t0
            state.step_time_s += step_time
            shares.append((t1 - t0) / step_time if step_time > 0 else 0.0)
            value = loss.item()
            total += value
            bar.set_postfix(loss=f"{value:.3f}")
        if not math.isfinite(total):
            raise FloatingPointError(f"training diverged in epoch {epoch + 1} (loss {total}).")
        state.epoch, state.steps = epoch + 1, state.steps + steps_per_epoch
        state.losses.append(total / steps_per_epoch)
        state.aug_shares.append(statistics.median(shares))
        state.train_time_s += time.perf_counter() - start
        if on_epoch is not None:
            on_epoch(
                {
                    "model": getattr(model, "module", model).state_dict(),
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "state": asdict(state),
                    # what bit-identical resumption needs besides the state (checked on resume)
                    "threads": torch.get_num_threads(),
                    "device": str(device),
                    "world": world,
                }
            )
    model.eval()
    return state
