"""Natural-image datasets from a local folder: CIFAR-10 and any ImageFolder tree.

Nothing is downloaded: torchvision reads the files under ``data.data_root`` and a missing
folder is an error that says what to put there. Images are resized to ``data.canvas`` and
held in memory as uint8 (CIFAR-10 takes 180 MB). There are no object positions, so the
position metrics are empty; the test images get ``margin`` pixels of zero padding, the context
a crop-with-padding pipeline would see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from .config import DataConfig
from .task import Task

__all__ = ["natural_task"]


def _stack(dataset: Any, size: int, limit: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Read a random subset of ``limit`` ``(PIL image, label)`` items into uint8 ``(N, 3, s, s)``.

    The subset is random (fixed by ``seed``) because ImageFolder lists images class by class.
    """
    from torchvision.transforms.v2 import functional as TF

    images, labels = [], []
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))
    for i in order[:limit].tolist():
        image, label = dataset[i]
        tensor = TF.pil_to_tensor(image.convert("RGB"))
        if tensor.shape[-2:] != (size, size):
            tensor = TF.resize(tensor, [size, size], antialias=True)
        images.append(tensor)
        labels.append(int(label))
    if not images:
        raise ValueError("`data.data_root` must hold at least one image, but the dataset is empty.")
    return torch.stack(images), torch.tensor(labels, dtype=torch.int64)


def natural_task(cfg: DataConfig, *, margin: int) -> Task:
    """Load CIFAR-10 or an ImageFolder (``data_root/train/<class>/``, ``data_root/test/<class>/``).

    Args:
        cfg: ``dataset`` (``"cifar10"`` or ``"imagefolder"``), ``data_root``, ``canvas`` (the
            image side after resizing), ``train_size`` and ``test_size`` (upper limits).
        margin: zero padding around the test images.

    Returns:
        A :class:`~shiftaug.harness.data.Task` without positions.
    """
    from torchvision import datasets

    root = Path(cfg.data_root) if cfg.data_root else None
    if root is None or not root.is_dir():
        raise ValueError(
            f"`data.data_root` must be an existing folder for dataset {cfg.dataset!r} (nothing is "
            f"downloaded), but got {cfg.data_root!r}."
        )
    if cfg.dataset == "cifar10":
        try:
            train = datasets.CIFAR10(str(root), train=True, download=False)
            test = datasets.CIFAR10(str(root), train=False, download=False)
        except RuntimeError as error:  # torchvision: "Dataset not found or corrupted"
            raise ValueError(
                f"`data.data_root` must contain cifar-10-batches-py/ (the python version of "
                f"CIFAR-10), but {root}: {error}"
            ) from None
        classes = len(train.classes)
    else:
        for split in ("train", "test"):
            if not (root / split).is_dir():
                raise ValueError(
                    f"`data.data_root` must contain {split}/<class>/<image> folders for "
                    f"'imagefolder', but {root / split} is missing."
                )
        train, test = (
            datasets.ImageFolder(str(root / "train")),
            datasets.ImageFolder(str(root / "test")),
        )
        if train.classes != test.classes:
            raise ValueError(
                f"`data.data_root` must have the same classes in train/ and test/, but got "
                f"{train.classes} and {test.classes}."
            )
        classes = len(train.classes)
    train_images, train_labels = _stack(train, cfg.canvas, cfg.train_size, cfg.seed)
    test_images, test_labels = _stack(test, cfg.canvas, cfg.test_size, cfg.seed)
    return Task(
        name=cfg.dataset,
        train_images=train_images,
        train_labels=train_labels,
        train_masks=None,
        test_images=F.pad(test_images, (margin,) * 4),
        test_labels=test_labels,
        margin=margin,
        num_classes=classes,
    )
