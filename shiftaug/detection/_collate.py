"""``CopyPasteCollate``: Simple Copy-Paste as a DataLoader ``collate_fn`` for detection batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import get_worker_info

from .._checks import check_choice, check_int, check_probability, describe
from ..transforms._objects import check_blend, check_occlusion
from ..transforms._policy import parse_count
from ._jitter import JitterParams, LargeScaleJitter
from ._paste import Pasted, PasteOptions, paste_batch
from ._samples import OBJECT_KEYS, Layout, Sample, build_target, parse_samples, select, wrap_like

__all__ = ["CopyPasteCollate", "CopyPasteParams"]


@dataclass(frozen=True)
class CopyPasteParams:
    """One draw of :class:`CopyPasteCollate` for a batch of ``N`` samples.

    Attributes:
        partner: ``(N,)`` int64: the sample whose objects image ``n`` receives (never ``n``).
        chosen: ``(N, M)`` bool: ``chosen[n, k]`` pastes object ``k`` of ``partner[n]`` into
            image ``n`` (``M``: the most objects any sample has, after jitter).
        jitter: the :class:`~shiftaug.detection.JitterParams` applied first, or ``None``.
    """

    partner: torch.Tensor
    chosen: torch.Tensor
    jitter: JitterParams | None = None

    def __len__(self) -> int:
        return int(self.partner.shape[0])


class CopyPasteCollate:
    """Simple Copy-Paste (Ghiasi et al., CVPR 2021) as a ``collate_fn`` for detection data.

    Takes the list of ``(image, target)`` samples a ``DataLoader`` yields (torchvision style:
    images of any sizes, targets with ``masks``, ``boxes``, ``labels`` and other per-object keys,
    or no objects at all) and returns ``(images, targets)``, two lists in the same order, each
    image having received a random subset of the objects of another image of the batch, pasted
    where they were in that image. Originals lose the pixels pasted over them and are dropped
    with every per-object entry when too little is left (``min_visibility``, ``min_area``);
    boxes of changed masks are recomputed from them, ``area`` is every mask's pixel count.
    Images keep their sizes: objects beyond a smaller receiving image are cut off. With
    ``jitter`` every image is first resized and cropped/padded to one size (large-scale jitter,
    the paper's training setting). See ``docs/detection.md``.

    Args:
        num_objects: objects pasted per image, taken from its partner's: ``"subset"`` (a
            uniformly random number from 1 to all of them), ``"all"``, ``n`` or ``(low, high)``
            (a random number in that range), never more than the partner has.
        p: probability that an image receives anything.
        blend: ``"hard"`` (default), ``"antialias"``, ``"feather"``,
            ``"laplacian"`` or ``"poisson"`` (see :func:`shiftaug.functional.blend_images`).
        sigma: Gaussian std in pixels for ``"feather"``.
        levels: pyramid levels for ``"laplacian"``.
        iterations: conjugate-gradient iterations for ``"poisson"``.
        min_visibility: an object that lost pixels (covered, or cut by a smaller frame) is
            dropped when it keeps less than this fraction of them.
        min_area: ... or fewer than this many pixels (objects with no pixel left always go).
        jitter: a :class:`~shiftaug.detection.LargeScaleJitter` applied to each image first.
        object_keys: target keys holding one entry per object.
        box_format: format of plain-tensor boxes (``BoundingBoxes`` carry their own).
        device: where to work and return the batch (default: where the samples are). In
            ``DataLoader`` workers keep the default (CPU); move to a GPU in the main process.
        threads: torch's intra-op threads while the collate works on the CPU, restored after
            (``None``: leave torch's setting). The default, 1, is what ``DataLoader`` workers
            run with anyway; in the main process it spares this memory-bound work the waits of
            a thread pool at every operation, which cost 4.5-9x on a busy 2-core machine.
        generator: random source (default: torch's global generator, which the ``DataLoader``
            seeds per worker). In a worker, a generator's copy is re-seeded from its initial
            seed and the worker's seed, so workers do not repeat each other.

    Example:
        >>> import torch
        >>> from shiftaug.detection import CopyPasteCollate
        >>> def sample(h, w, labels, column):
        ...     masks = torch.zeros(len(labels), h, w, dtype=torch.bool)
        ...     for i in range(len(labels)):
        ...         masks[i, 6 * i : 6 * i + 5, column : column + 8] = True
        ...     return torch.rand(3, h, w), {"masks": masks, "labels": torch.tensor(labels)}
        >>> collate = CopyPasteCollate("all", generator=torch.Generator().manual_seed(0))
        >>> batch = [sample(32, 32, [1, 2], column=2), sample(24, 40, [3, 4, 5], column=20)]
        >>> images, targets = collate(batch)
        >>> [tuple(image.shape) for image in images]
        [(3, 32, 32), (3, 24, 40)]
        >>> [t["labels"].tolist() for t in targets]
        [[1, 2, 3, 4, 5], [3, 4, 5, 1, 2]]
    """

    def __init__(
        self,
        num_objects: int | tuple[int, int] | str = "subset",
        *,
        p: float = 1.0,
        blend: str = "hard",
        sigma: float = 1.0,
        levels: int = 3,
        iterations: int = 300,
        min_visibility: float = 0.0,
        min_area: float = 1.0,
        jitter: LargeScaleJitter | None = None,
        object_keys: Sequence[str] = OBJECT_KEYS,
        box_format: str = "xyxy",
        device: torch.device | str | None = None,
        threads: int | None = 1,
        generator: torch.Generator | None = None,
    ) -> None:
        self.count = _parse_count(num_objects)
        self.num_objects = num_objects
        self.p = check_probability("p", p)
        check_blend(blend, sigma, levels, iterations)
        min_visibility, min_area = check_occlusion(min_visibility, min_area)
        self.options = PasteOptions(blend, sigma, levels, iterations, min_visibility, min_area)
        if jitter is not None and not isinstance(jitter, LargeScaleJitter):
            raise TypeError(
                f"`jitter` must be a LargeScaleJitter or None, but got {describe(jitter)}."
            )
        self.jitter = jitter
        self.object_keys = _check_object_keys(object_keys)
        self.box_format = check_choice("box_format", box_format, ("xyxy", "xywh", "cxcywh"))
        self.device = torch.device(device) if device is not None else None
        self.threads = None if threads is None else check_int("threads", threads, low=1)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(
                f"`generator` must be a torch.Generator or None, but got {describe(generator)}."
            )
        self.generator = generator
        self.last_params: CopyPasteParams | None = None
        self._worker: tuple[int, torch.Generator] | None = None

    def __call__(
        self, samples: Sequence[Any], *, params: CopyPasteParams | None = None
    ) -> tuple[list[Any], list[dict[str, Any]]]:
        """Paste objects between the samples; ``params`` replays an earlier draw."""
        threads = torch.get_num_threads()
        on_cpu = self.device is None or self.device.type == "cpu"
        if self.threads is None or not on_cpu or threads == self.threads:
            return self._collate(samples, params)
        torch.set_num_threads(self.threads)
        try:
            return self._collate(samples, params)
        finally:
            torch.set_num_threads(threads)

    def _collate(
        self, samples: Sequence[Any], params: CopyPasteParams | None
    ) -> tuple[list[Any], list[dict[str, Any]]]:
        parsed, layout = parse_samples(samples, self.object_keys, self.box_format, self.device)
        if params is not None and not isinstance(params, CopyPasteParams):
            raise TypeError(f"`params` must be CopyPasteParams, but got {describe(params)}.")
        jitter_params = None
        if self.jitter is not None:
            jitter_params = params.jitter if params is not None else None
            if jitter_params is None:
                jitter_params = self.jitter.make_params(len(parsed), generator=self._generator())
            if len(jitter_params) != len(parsed):
                raise ValueError(
                    f"`params.jitter` must hold {len(parsed)} draws, but got {len(jitter_params)}."
                )
            parsed = [
                self.jitter.apply(
                    s, float(jitter_params.scale[i]), jitter_params.offset[i].tolist()
                )
                for i, s in enumerate(parsed)
            ]
        counts = [s.count for s in parsed]
        if params is None:
            params = self.make_params(counts)
            params = CopyPasteParams(params.partner, params.chosen, jitter_params)
        _check_params(params, counts)
        partner = params.partner.tolist()
        chosen = [torch.nonzero(row).flatten().tolist() for row in params.chosen.cpu()]
        with_boxes = "boxes" in layout.keys
        pasted = paste_batch(parsed, partner, chosen, self.options, with_boxes)
        self.last_params = params
        return _outputs(parsed, partner, pasted, layout)

    def make_params(
        self, counts: Sequence[int], *, generator: torch.Generator | None = None
    ) -> CopyPasteParams:
        """Draw partners and pasted objects for samples holding ``counts`` objects each.

        Args:
            counts: the number of objects of each sample of the batch (after jitter).
            generator: random source (default: the collate's, else torch's global one).

        Returns:
            The draw, to replay with ``collate(samples, params=...)``.
        """
        generator = generator if generator is not None else self._generator()
        device = generator.device if generator is not None else torch.device("cpu")
        batch, most = len(counts), max(counts, default=0)
        offset = torch.randint(1, max(batch, 2), (batch,), generator=generator, device=device)
        unit = torch.rand(batch, 2, generator=generator, device=device).cpu()
        scores = torch.rand(batch, most, generator=generator, device=device).cpu()
        partner = (torch.arange(batch) + offset.cpu()).remainder(max(batch, 1))
        available = torch.tensor(list(counts), dtype=torch.long)[partner]
        low, high = self.count
        if high is None:  # "all"
            wanted = available
        else:
            top = available if high < 0 else torch.full_like(available, high)  # "subset"
            wanted = low + torch.floor(unit[:, 0] * (top - low + 1)).long()
        wanted = torch.minimum(wanted, available) * (unit[:, 1] < self.p) * (batch > 1)
        slot = torch.arange(most)
        ranks = torch.argsort(
            torch.argsort(torch.where(slot < available[:, None], scores, 2.0), 1), 1
        )
        return CopyPasteParams(partner, ranks < wanted[:, None])

    def _generator(self) -> torch.Generator | None:
        worker = get_worker_info()
        if self.generator is None or worker is None:
            return self.generator
        if self._worker is None or self._worker[0] != worker.seed:
            seed = (self.generator.initial_seed() + worker.seed) % (2**63)
            self._worker = (worker.seed, torch.Generator(self.generator.device).manual_seed(seed))
        return self._worker[1]

    def __repr__(self) -> str:
        o = self.options
        return (
            f"{type(self).__name__}(num_objects={self.num_objects!r}, p={self.p}, blend={o.blend!r}, "
            f"min_visibility={o.min_visibility}, min_area={o.min_area}, jitter={self.jitter!r}, "
            f"threads={self.threads})"
        )


def _check_object_keys(object_keys: object) -> tuple[str, ...]:
    if isinstance(object_keys, str) or not (
        isinstance(object_keys, Sequence) and all(isinstance(k, str) for k in object_keys)
    ):
        raise TypeError(
            f"`object_keys` must be a sequence of str, but got {describe(object_keys)}."
        )
    if "masks" not in object_keys:
        raise ValueError(f"`object_keys` must include 'masks', but got {list(object_keys)!r}.")
    return tuple(object_keys)


def _parse_count(num_objects: object) -> tuple[int, int | None]:
    """``(low, high)``; ``high`` is ``None`` for "all" and ``-1`` for "subset" (1 .. all).

    The core's count grammar (:func:`~shiftaug.transforms._policy.parse_count`) plus "subset";
    "all" here may paste nothing (an image whose partner has no objects).
    """
    if num_objects == "subset":
        return 1, -1
    try:
        low, high = parse_count(num_objects)
    except (TypeError, ValueError) as error:
        raise type(error)(
            "`num_objects` must be 'subset', 'all', an int >= 1 or a range (low, high) with "
            f"0 <= low <= high, high >= 1, but got {describe(num_objects)}."
        ) from None
    return (0, None) if high is None else (low, high)


def _check_params(params: CopyPasteParams, counts: list[int]) -> None:
    batch, most = len(counts), max(counts, default=0)
    if len(params) != batch or tuple(params.chosen.shape) != (batch, most):
        raise ValueError(
            f"`params` must be drawn for {batch} samples with at most {most} objects (chosen of "
            f"shape ({batch}, {most})), but got partner {tuple(params.partner.shape)} and chosen "
            f"{tuple(params.chosen.shape)}."
        )
    partner = params.partner.cpu()
    available = torch.tensor(counts, dtype=torch.long)[partner.clamp(0, max(batch - 1, 0))]
    beyond = params.chosen.cpu() & (torch.arange(most) >= available[:, None])
    if bool(((partner < 0) | (partner >= batch)).any()) or bool(beyond.any()):
        raise ValueError(
            "`params` must name partners in [0, N) and only objects they have, but got "
            f"partner {partner.tolist()} for samples with {counts} objects."
        )


def _outputs(
    samples: list[Sample], partner: list[int], pasted: list[Pasted], layout: Layout
) -> tuple[list[Any], list[dict[str, Any]]]:
    images, targets = [], []
    for n, (sample, result) in enumerate(zip(samples, pasted, strict=True)):
        source = samples[partner[n]]
        values: dict[str, Any] = {}
        for key, value in sample.values.items():
            mine = select(value, result.keep)
            if result.take:
                theirs = select(source.values[key], result.take)
                if isinstance(mine, torch.Tensor):
                    mine = torch.cat([mine, theirs.to(mine.dtype)])
                else:
                    mine = mine + theirs
            values[key] = mine
        if not sample.count and result.take:  # an empty receiver takes its keys from the partner
            values = {key: select(v, result.take) for key, v in source.values.items()}
        targets.append(
            build_target(sample, layout, result.masks, result.boxes, result.area, values)
        )
        images.append(wrap_like(result.image, sample.image_like, sample.size))
    return images, targets
