"""The one base class below ``nn.Module``: what every random transform shares."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import torch
from torch import nn
from torch.utils.data import get_worker_info

from .._checks import check_probability, describe

__all__ = ["RandomTransform", "sample_layout"]


class RandomTransform(nn.Module):
    """Sampler + kernel. Subclasses implement ``make_params`` and ``forward``.

    Attributes:
        p: probability that a sample is transformed.
        same_on_batch: draw one set of parameters for the whole batch.
        generator: optional :class:`torch.Generator`; draws happen on its device. Inside a
            ``DataLoader`` worker it reads as that worker's own stream (see :attr:`generator`).
        last_params: parameters of the most recent call (for replay and inversion).
    """

    def __init__(self, *, p: float, same_on_batch: bool, generator: torch.Generator | None) -> None:
        super().__init__()
        self.p = check_probability("p", p)
        if not isinstance(same_on_batch, bool):
            raise TypeError(f"`same_on_batch` must be a bool, but got {describe(same_on_batch)}.")
        self.same_on_batch = same_on_batch
        self.generator = generator
        self.last_params: Any = None

    @property
    def generator(self) -> torch.Generator | None:
        """The random source given at construction, or ``None`` (torch's global generator).

        Each ``DataLoader`` worker holds a copy of the transform, hence of this generator's
        state: read as is, every worker would draw the same stream. Inside a worker this
        property therefore returns a generator of the worker's own, seeded from the given
        generator's state and the worker's seed (which ``DataLoader`` derives from
        ``torch.manual_seed`` or its own ``generator``, afresh each epoch): streams differ
        between workers and epochs and are reproducible under both seeds.
        """
        base: torch.Generator | None = self.__dict__["_generator"]
        if base is None or torch.compiler.is_compiling():
            return base
        info = get_worker_info()
        if info is None:
            return base
        key = (os.getpid(), info.id, info.seed)
        cached = self.__dict__.get("_worker_stream")
        if cached is None or cached[0] != key:
            digest = hashlib.sha256(base.get_state().numpy().tobytes() + repr(key[1:]).encode())
            stream = torch.Generator(device=base.device)
            stream.manual_seed(int.from_bytes(digest.digest()[:8], "little") >> 1)
            cached = (key, stream)
            self.__dict__["_worker_stream"] = cached
        return cached[1]

    @generator.setter
    def generator(self, generator: torch.Generator | None) -> None:
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(
                f"`generator` must be a torch.Generator or None, but got {describe(generator)}."
            )
        self.__dict__["_generator"] = generator
        self.__dict__.pop("_worker_stream", None)

    def make_params(
        self, image: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> Any:  # pragma: no cover - abstract
        """Draw parameters for one call.

        Args:
            image: the images of the call (subclasses read what they need, usually the shape
                and device).
            generator: overrides :attr:`generator` for this draw only, without touching the
                module's state (thread-safe per-call seeding).
        """
        raise NotImplementedError


def sample_layout(image: torch.Tensor, name: str = "image") -> tuple[int, tuple[int, ...]]:
    """Number of samples and the shape a ``(N, 2)`` parameter takes to broadcast over ``image``.

    ``(C, H, W)`` is one sample (parameters of shape ``(2,)``); ``(N, C, H, W)`` is ``N``
    samples; in ``(N, T, C, H, W)`` (video) all ``T`` frames of a sample share its parameters.
    """
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor, but got {type(image).__name__}.")
    if image.ndim < 3:
        raise ValueError(
            f"`{name}` must have shape (C, H, W), (N, C, H, W) or (N, ..., C, H, W), but got a "
            f"tensor of shape {tuple(image.shape)}."
        )
    if image.ndim == 3:
        return 1, ()
    return image.shape[0], (image.shape[0],) + (1,) * (image.ndim - 4)
