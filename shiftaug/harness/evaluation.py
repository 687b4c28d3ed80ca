"""Measure any trained classifier: the harness's metrics and report card without training.

:func:`evaluate_model` takes a model (an ``nn.Module``, a preset name, ``"timm:<name>"`` or
``"package.module:factory"``, optionally with a checkpoint), test data (a built-in canvas
dataset, an ImageFolder tree or a CIFAR-10 folder; nothing is downloaded) and writes the same
metrics JSON as ``shiftaug experiment`` plus ``report.md`` and plots. ``shiftaug evaluate`` is
its command line.

Natural images are resized to ``image_size + 2 * max_shift`` and the model sees the centre
``image_size`` window, so every shift shows real image content, as in Zhang (2019)'s protocol.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._checks import describe
from .config import DataConfig, EvalConfig
from .data import Task, make_task

__all__ = ["evaluate_model", "folder_task", "load_weights"]

CANVAS_DATA = ("mnist", "sklearn", "probe")


def load_weights(model: nn.Module, checkpoint: str | Path) -> nn.Module:
    """Load a state dict (or a harness checkpoint's ``"model"``) with ``weights_only=True``.

    Raises:
        ValueError: the file is missing, not a state dict, or does not fit the model.
    """
    path = Path(checkpoint)
    if not path.is_file():
        raise ValueError(f"`checkpoint` must be an existing file, but got {str(path)!r}.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # any unpickling failure: not a weights file
        raise ValueError(f"`checkpoint` {path} must be a torch state dict, but: {error}") from None
    for key in ("model", "state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise ValueError(f"`checkpoint` {path} must hold a state dict, but got {describe(state)}.")
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise ValueError(f"`checkpoint` {path} must fit the model, but: {error}") from None
    return model


def folder_task(
    dataset: str, root: str | Path, *, image_size: int, margin: int, limit: int, seed: int = 0
) -> Task:
    """A test-only :class:`Task` from ``root``: ``cifar10`` (``cifar-10-batches-py/``) or
    ``imagefolder`` (``root/test/<class>/`` if present, else ``root/<class>/``).

    Images are resized to ``image_size + 2 * margin``; ``limit`` random images are kept.
    """
    from torchvision import datasets

    from .natural import _stack

    path = Path(root)
    if not path.is_dir():
        raise ValueError(
            f"`data_root` must be an existing folder (nothing is downloaded), but got {str(root)!r}."
        )
    if dataset == "cifar10":
        try:
            data: Any = datasets.CIFAR10(str(path), train=False, download=False)
        except RuntimeError as error:
            raise ValueError(
                f"`data_root` must contain cifar-10-batches-py/, but {path}: {error}"
            ) from None
    else:
        folder = path / "test" if (path / "test").is_dir() else path
        try:
            data = datasets.ImageFolder(str(folder))
        except (FileNotFoundError, RuntimeError) as error:
            raise ValueError(
                f"`data_root` must hold <class>/<image> folders, but: {error}"
            ) from None
    images, labels = _stack(data, image_size + 2 * margin, limit, seed)
    view = images[..., margin : margin + image_size, margin : margin + image_size]
    return Task(
        name=dataset,
        train_images=view[:1],
        train_labels=labels[:1],
        train_masks=None,
        test_images=images,
        test_labels=labels,
        margin=margin,
        num_classes=len(data.classes),
    )


def _task(
    data: str, data_root: str | Path | None, image_size: int, cfg: EvalConfig, seed: int
) -> Task:
    if data in CANVAS_DATA:
        size = 6 if data == "probe" else max(4, image_size * 14 // 40)  # the quick preset's ratio
        dcfg = DataConfig(
            dataset=data,
            canvas=image_size,
            object_size=size,
            train_size=1,
            test_size=max(cfg.images, cfg.grid_images),
            seed=seed,
        )
        return make_task(dcfg, margin=cfg.max_shift)
    if data not in ("cifar10", "imagefolder"):
        raise ValueError(
            f"`data` must be one of {[*CANVAS_DATA, 'cifar10', 'imagefolder']}, but got {data!r}."
        )
    if data_root is None:
        raise ValueError(f"`data_root` must be given for data={data!r}, but got None.")
    return folder_task(
        data, data_root, image_size=image_size, margin=cfg.max_shift, limit=cfg.images, seed=seed
    )


def evaluate_model(
    model: nn.Module | str,
    *,
    checkpoint: str | Path | None = None,
    model_args: dict[str, Any] | None = None,
    data: str = "mnist",
    data_root: str | Path | None = None,
    image_size: int = 40,
    out: str | Path | None = None,
    device: str = "auto",
    eval_config: EvalConfig | None = None,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Measure ``model``'s shift invariance and (with ``out``) write its report card.

    Args:
        model: an ``nn.Module`` mapping ``(N, C, H, W)`` to logits, or a spec: a preset name,
            ``"timm:<name>"`` (never pretrained) or ``"package.module:factory"``.
        checkpoint: a state dict file (or a harness checkpoint) to load, ``weights_only=True``.
        model_args: keyword arguments for a timm model or a factory (e.g. ``num_classes``).
        data: ``"mnist"``, ``"sklearn"`` or ``"probe"`` (canvases with known object positions:
            the heatmap is drawn), ``"imagefolder"`` or ``"cifar10"`` (from ``data_root``).
        data_root: folder for ``imagefolder`` / ``cifar10``.
        image_size: the side of the model's input in pixels.
        out: folder for ``results.json``, ``report.md`` and ``plots/`` (nothing written if
            ``None``).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ...; the model and batches are moved there.
        eval_config: sizes of the evaluation (:class:`~.config.EvalConfig`; defaults otherwise).
        seed: the data subset and the random shifts.
        progress: show a progress bar over the stages.

    Returns:
        The run record: ``metrics`` (the keys of ``results.json``) and ``curves``.

    Example:
        >>> import torch
        >>> from shiftaug.harness import evaluate_model
        >>> from shiftaug.harness.config import EvalConfig
        >>> gap = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        ...                           torch.nn.Linear(1, 10))
        >>> cfg = EvalConfig(max_shift=2, images=8, grid_images=2, layer_objects=2,
        ...                  layer_positions=2, logit_images=1)
        >>> record = evaluate_model(gap, data="sklearn", image_size=16, eval_config=cfg,
        ...                         progress=False)
        >>> record["metrics"]["consistency_circular"]
        1.0
    """
    from tqdm.auto import tqdm

    from .evaluate import evaluate, init_metrics
    from .models import build_model

    cfg = eval_config or EvalConfig()
    task = _task(data, data_root, image_size, cfg, seed)
    name = model if isinstance(model, str) else type(model).__name__
    if isinstance(model, str):
        from .models import resolve_spec

        spec = {**resolve_spec(model), **(model_args or {})}
        model = build_model(
            spec,
            in_channels=task.channels,
            num_classes=task.num_classes,
            image_size=task.image_size,
        )
    if checkpoint is not None:
        load_weights(model, checkpoint)
    dev = torch.device(
        "cuda"
        if device == "auto" and torch.cuda.is_available()
        else "cpu"
        if device == "auto"
        else device
    )
    model = model.to(dev).eval()
    bar = tqdm(total=5 + bool(cfg.extras), desc=f"evaluate {name}", disable=not progress)

    def stage(text: str) -> None:
        bar.set_postfix_str(text)
        bar.update(1)

    stage("untrained-style logit check")
    init = init_metrics(model, task, cfg, seed=seed)
    metrics, curves = evaluate(model, task, cfg, seed=seed, progress=stage)
    bar.close()
    metrics.update(init)
    record = {
        "key": "evaluate",
        "model": name,
        "arm": "evaluate",
        "seed": seed,
        "parameters": sum(p.numel() for p in model.parameters()),
        "metrics": metrics,
        "curves": curves,
    }
    if out is not None:
        _write(Path(out), record, data, image_size, cfg, dev)
    return record


def _write(
    out: Path, record: dict[str, Any], data: str, size: int, cfg: EvalConfig, dev: torch.device
) -> None:
    from .. import __version__
    from .report import write_report
    from .store import write_json

    config = {
        "name": f"evaluate {record['model']}",
        "seeds": [record["seed"]],
        "data": {"dataset": data, "canvas": size, "background": "black", "positions": "–"},
        "eval": dataclasses.asdict(cfg),
    }
    write_json(
        out / "results.json",
        {
            "schema": "shiftaug.results/1",
            "name": config["name"],
            "config": config,
            "environment": {
                "shiftaug": __version__,
                "torch": torch.__version__,
                "device": str(dev),
            },
            "complete": True,
            "runs": [record],
        },
    )
    write_report(out)
