"""Augment on the device, after the ``DataLoader``: one line around an existing loop.

:class:`AugmentOnDevice` wraps any iterable of batches (a tensor, a tuple/list, or a dict per
batch), moves each batch to a device and applies a batched shiftaug transform to the image entry
and its targets there. :func:`collate_detection` pads per-sample objects (boxes, labels, masks,
keypoints) to ``(N, M, ...)`` with a ``valid`` mask so such batches can be augmented in one call;
:func:`uncollate_detection` turns them back into per-sample dicts.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils.data import default_collate

from .._checks import describe
from ..transforms import RandomTranslate

__all__ = [
    "OBJECT_KEYS",
    "AugmentOnDevice",
    "collate_detection",
    "to_device",
    "uncollate_detection",
]

OBJECT_KEYS = ("boxes", "labels", "masks", "keypoints")
Key = str | int


def to_device(batch: Any, device: torch.device | str, *, non_blocking: bool = True) -> Any:
    """Move every tensor in a (nested) tuple, list or dict to ``device``; leave the rest alone.

    With ``non_blocking=True`` and a pinned source (``DataLoader(pin_memory=True)``), copies to
    a CUDA device are asynchronous.
    """
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=non_blocking)
    if isinstance(batch, Mapping):
        return {
            key: to_device(value, device, non_blocking=non_blocking) for key, value in batch.items()
        }
    if isinstance(batch, (tuple, list)):
        moved = [to_device(value, device, non_blocking=non_blocking) for value in batch]
        return type(batch)(moved) if not hasattr(batch, "_fields") else type(batch)(*moved)
    return batch


class AugmentOnDevice:
    """Move each batch of ``loader`` to ``device`` and augment it there with ``transform``.

    Args:
        loader: any iterable of batches, typically a ``torch.utils.data.DataLoader``. A batch is
            a tensor (the images), a tuple/list or a dict.
        transform: a batched shiftaug transform, e.g. :class:`shiftaug.RandomTranslate`.
        device: where to move and augment (default: leave batches where they are).
        image_key: the images' key or index; default ``"image"`` for dicts, ``0`` for sequences.
        targets: transform argument name -> batch key/index, e.g. ``{"mask": 1}``. For dict
            batches the default takes every key named like an argument of ``transform``
            (``mask``, ``boxes``, ``keypoints`` for ``RandomTranslate``). By default, another
            entry of the images' batch size and ``(H, W)`` (a mask the transform cannot
            place) is an error rather than being left behind unmoved: map it here, or pass
            ``targets={}`` (or a mapping without it) to leave it unchanged knowingly.
        outputs: output field name -> batch key/index to write it to. Targets are written back
            where they came from; for dict batches every other output (``boxes_visible``, ...)
            is added under its own name.
        non_blocking: asynchronous host-to-device copies (use with ``pin_memory=True``).

    Example:
        >>> import torch
        >>> from torch.utils.data import DataLoader, TensorDataset
        >>> from shiftaug import RandomTranslate
        >>> from shiftaug.adapters.loader import AugmentOnDevice
        >>> data = TensorDataset(torch.rand(8, 3, 16, 16), torch.arange(8))
        >>> loader = AugmentOnDevice(DataLoader(data, batch_size=4), RandomTranslate(shift_px=2))
        >>> shapes = [tuple(images.shape) for images, labels in loader]
        >>> len(shapes), shapes[0]
        (2, (4, 3, 16, 16))
    """

    def __init__(
        self,
        loader: Iterable[Any],
        transform: nn.Module,
        *,
        device: torch.device | str | None = None,
        image_key: Key | None = None,
        targets: Mapping[str, Key] | None = None,
        outputs: Mapping[str, Key] | None = None,
        non_blocking: bool = True,
    ) -> None:
        if not isinstance(loader, Iterable):
            raise TypeError(f"`loader` must be an iterable of batches, but got {describe(loader)}.")
        if not isinstance(transform, nn.Module):
            raise TypeError(
                f"`transform` must be a batched shiftaug transform (an nn.Module), but got "
                f"{describe(transform)}."
            )
        if image_key is not None and not isinstance(image_key, (str, int)):
            raise TypeError(f"`image_key` must be a str or an int, but got {describe(image_key)}.")
        self.arguments = _keyword_arguments(transform)
        self.explicit = targets is not None  # the caller said which entries move
        self.targets = _check_keys("targets", targets, self.arguments)
        self.outputs = _check_keys("outputs", outputs, None)
        self.loader, self.transform, self.image_key = loader, transform, image_key
        self.device = torch.device(device) if device is not None else None
        self.non_blocking = bool(non_blocking)

    def __len__(self) -> int:
        return len(self.loader)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Any]:
        for batch in self.loader:
            if self.device is not None:
                batch = to_device(batch, self.device, non_blocking=self.non_blocking)
            yield self.augment(batch)

    def augment(self, batch: Any) -> Any:
        """Apply the transform to one batch already on its device."""
        if isinstance(batch, torch.Tensor):
            result = self.transform(batch)
            return result if isinstance(result, torch.Tensor) else result.image
        if not isinstance(batch, (Mapping, tuple, list)):
            raise TypeError(
                f"A batch must be a tensor, a tuple/list or a dict, but got {describe(batch)}."
            )
        is_dict = isinstance(batch, Mapping)
        image_key = self.image_key if self.image_key is not None else ("image" if is_dict else 0)
        targets = dict(self.targets)
        if isinstance(batch, Mapping) and not self.explicit:
            targets = _default_targets(self.arguments, batch)
        image = _entry(batch, image_key, "image_key")
        if not isinstance(image, torch.Tensor):
            raise TypeError(
                f"The batch entry {image_key!r} must be the images, a (N, C, H, W) tensor, but "
                f"got {describe(image)}; set `image_key`."
            )
        if not self.explicit:
            name = "mask" if "mask" in self.arguments else "masks"
            _check_nothing_left(batch, image, {image_key, *targets.values()}, name)
        kwargs = {name: _entry(batch, key, f"targets[{name!r}]") for name, key in targets.items()}
        result = self._call(image, kwargs)
        writes = {image_key: result if isinstance(result, torch.Tensor) else result.image}
        if not isinstance(result, torch.Tensor):
            writes.update(self._output_writes(result, targets, is_dict))
        return _replace(batch, writes)

    def _call(self, image: torch.Tensor, kwargs: dict[str, Any]) -> Any:
        # RandomTranslate aligns the shift of boxes/keypoints with their *trailing* batch dims;
        # per-object keypoints (N, M, P, 2) are therefore moved as (N, M * P, 2) and restored.
        shapes = {}
        if isinstance(self.transform, RandomTranslate):
            for name in ("boxes", "keypoints"):
                value = kwargs.get(name)
                if isinstance(value, torch.Tensor) and value.ndim > 3:
                    shapes[name] = value.shape
                    kwargs[name] = value.reshape(value.shape[0], -1, value.shape[-1])
        result = self.transform(image, **kwargs)
        if not shapes:
            return result
        fixes = {}
        for name, shape in shapes.items():
            fixes[name] = getattr(result, name).reshape(shape)
            fixes[f"{name}_visible"] = getattr(result, f"{name}_visible").reshape(shape[:-1])
        return result._replace(**fixes)

    def _output_writes(self, result: Any, targets: dict[str, Key], is_dict: bool) -> dict[Key, Any]:
        writes: dict[Key, Any] = {}
        for field in result._fields:
            value = getattr(result, field)
            if field in ("image", "params") or value is None:
                continue
            if field in self.outputs:
                writes[self.outputs[field]] = value
            elif field in targets:
                writes[targets[field]] = value
            elif is_dict:
                writes[field] = value
        return writes


def collate_detection(
    samples: Sequence[Mapping[str, Any]],
    *,
    object_keys: Sequence[str] = OBJECT_KEYS,
    valid_key: str = "valid",
) -> dict[str, Any]:
    """Collate detection samples, padding their objects to a common count ``M``.

    Every key in ``object_keys`` that a sample has holds one entry per object (``boxes``
    ``(M_i, 4)``, ``labels`` ``(M_i,)``, ``masks`` ``(M_i, H, W)``, ``keypoints`` ``(M_i, P, 2)``);
    all of a sample's object keys must agree on ``M_i``. They are zero-padded to
    ``(N, M, ...)``; ``batch[valid_key]`` is the ``(N, M)`` bool mask of real objects. A sample
    without objects may lack object keys (or hold ``None``), as torchvision's COCO wrapper
    gives an image without annotations. Other keys go through
    :func:`torch.utils.data.default_collate` and must be in every sample.

    Example:
        >>> import torch
        >>> from shiftaug.adapters.loader import collate_detection, uncollate_detection
        >>> samples = [
        ...     {"image": torch.zeros(3, 8, 8), "boxes": torch.tensor([[0.0, 0, 4, 4]])},
        ...     {"image": torch.zeros(3, 8, 8), "boxes": torch.zeros(0, 4)},
        ... ]
        >>> batch = collate_detection(samples)
        >>> batch["boxes"].shape, batch["valid"].tolist()
        (torch.Size([2, 1, 4]), [[True], [False]])
        >>> counts = [sample["boxes"].shape[0] for sample in uncollate_detection(batch)]
        >>> counts
        [1, 0]
    """
    if not isinstance(samples, Sequence) or not samples:
        raise ValueError(
            f"`samples` must be a non-empty sequence of dicts, but got {describe(samples)}."
        )
    if not all(isinstance(sample, Mapping) for sample in samples):
        raise TypeError(
            f"`samples` must hold dicts (one per sample), but got {[type(s).__name__ for s in samples]}."
        )
    keys = list(dict.fromkeys(key for sample in samples for key in sample))
    present = [key for key in keys if key in object_keys]
    counts = [_object_count(sample, present, index) for index, sample in enumerate(samples)]
    for key in keys:
        lacking = [i for i, sample in enumerate(samples) if key not in sample]
        if key not in present and lacking:
            raise ValueError(
                f"`samples[{lacking[0]}]` must hold {key!r} like the other samples, but has "
                f"{list(samples[lacking[0]])}."
            )
    batch: dict[str, Any] = {}
    for key in keys:
        values = [sample.get(key) for sample in samples]
        if key not in present:
            batch[key] = default_collate(values)
        elif any(value is not None for value in values):
            batch[key] = _pad(key, values, max(counts))
        else:  # every sample holds None: nothing to pad
            batch[key] = None
    batch[valid_key] = torch.arange(max(counts)) < torch.tensor(counts)[:, None]
    return batch


def uncollate_detection(
    batch: Mapping[str, Any],
    *,
    object_keys: Sequence[str] = OBJECT_KEYS,
    valid_key: str = "valid",
    visible_key: str | None = "boxes_visible",
) -> list[dict[str, Any]]:
    """Split a batch from :func:`collate_detection` back into per-sample dicts.

    Objects are kept where ``batch[valid_key]`` is True and, if present, ``batch[visible_key]``
    too (a transform's ``boxes_visible``: boxes that left the image are dropped with their
    labels, masks and keypoints; ``<object key>_visible`` entries are split the same way). Other
    tensors with a leading batch dimension are indexed.
    """
    if valid_key not in batch:
        raise ValueError(
            f"`batch` must hold the `{valid_key}` mask of collate_detection, but has {list(batch)}."
        )
    per_object = (*object_keys, *(f"{key}_visible" for key in object_keys))
    keep = batch[valid_key]
    if visible_key is not None and visible_key in batch:
        keep = keep & batch[visible_key].to(keep.device)
    samples = []
    for index in range(keep.shape[0]):
        sample = {}
        for key, value in batch.items():
            if key in (valid_key, visible_key):
                continue
            item = value[index] if isinstance(value, (torch.Tensor, list, tuple)) else value
            if key in per_object and item is not None:
                item = item[keep[index].to(item.device)]
            sample[key] = item
        samples.append(sample)
    return samples


def _object_count(sample: Mapping[str, Any], keys: Sequence[str], index: int) -> int:
    """The number of objects of one sample; an object entry it lacks (or holds as None, as for
    an image without annotations) counts as none, and is then padded from the others."""
    counts = {}
    for key in keys:
        value = sample.get(key)
        if value is None:
            continue
        if not isinstance(value, torch.Tensor) or value.ndim < 1:
            raise TypeError(
                f"`samples[{index}][{key!r}]` must be a tensor with one row per object, but got "
                f"{describe(value)}."
            )
        counts[key] = value.shape[0]
    if len(set(counts.values())) > 1:
        raise ValueError(
            f"The object entries of `samples[{index}]` must have the same length, but got {counts}."
        )
    count = next(iter(counts.values()), 0)
    missing = [key for key in keys if sample.get(key) is None]
    if count and missing:
        raise ValueError(
            f"`samples[{index}]` has {count} objects but no {missing}: every sample with objects "
            "must hold the object entries the others hold."
        )
    return count


def _pad(key: str, values: list[torch.Tensor | None], count: int) -> torch.Tensor:
    given = [value for value in values if value is not None]
    rest = {tuple(value.shape[1:]) for value in given}
    if len(rest) > 1:
        raise ValueError(
            f"`{key}` must have the same shape after the object dimension in every sample, but "
            f"got {sorted(rest)}."
        )
    out = given[0].new_zeros((len(values), count, *rest.pop()))
    for index, value in enumerate(values):
        if value is not None:
            out[index, : value.shape[0]] = value
    return out


def _check_nothing_left(batch: Any, image: torch.Tensor, used: set[Key], name: str) -> None:
    """Raise for an entry shaped like a per-pixel target of the images that would not move."""
    keys = list(batch) if isinstance(batch, Mapping) else range(len(batch))
    for key in keys:
        value = batch[key]
        if (
            key not in used
            and isinstance(value, torch.Tensor)
            and value.ndim >= 3
            and image.ndim >= 4
            and value.shape[0] == image.shape[0]
            and value.shape[-2:] == image.shape[-2:]
        ):
            raise ValueError(
                f"The batch entry {key!r} ({describe(value)}) has the images' batch size and "
                "(H, W), like a mask, but the transform would leave it unmoved; pass "
                f"`targets={{{name!r}: {key!r}}}` to move it with the images, or `targets={{}}` "
                "to leave it unchanged."
            )


def _default_targets(arguments: Sequence[str], batch: Mapping[str, Any]) -> dict[str, Key]:
    """Batch keys named like the transform's arguments (``mask`` also reads ``masks``)."""
    targets: dict[str, Key] = {name: name for name in arguments if name in batch}
    if "mask" in arguments and "mask" not in batch and "masks" in batch:
        targets["mask"] = "masks"
    return targets


def _keyword_arguments(transform: nn.Module) -> tuple[str, ...]:
    parameters = inspect.signature(transform.forward).parameters.values()
    return tuple(
        p.name for p in list(parameters)[1:] if p.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD
    )


def _check_keys(
    name: str, mapping: Mapping[str, Key] | None, allowed: Sequence[str] | None
) -> dict[str, Key]:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping) or not all(
        isinstance(k, str) and isinstance(v, (str, int)) and not isinstance(v, bool)
        for k, v in mapping.items()
    ):
        raise TypeError(
            f"`{name}` must map names to batch keys or indices, but got {describe(mapping)}."
        )
    if allowed is not None and set(mapping) - set(allowed):
        raise ValueError(
            f"`{name}` must use the transform's target arguments {allowed}, but got "
            f"{sorted(set(mapping) - set(allowed))}."
        )
    return dict(mapping)


def _entry(batch: Any, key: Key, name: str) -> Any:
    try:
        return batch[key]
    except (KeyError, IndexError, TypeError):
        keys = list(batch) if isinstance(batch, Mapping) else f"indices 0..{len(batch) - 1}"
        raise ValueError(
            f"`{name}` must name an entry of the batch ({keys}), but got {key!r}."
        ) from None


def _replace(batch: Any, writes: dict[Key, Any]) -> Any:
    if isinstance(batch, Mapping):
        return {**batch, **writes}
    items = list(batch)
    for key, value in writes.items():
        if not isinstance(key, int) or not -len(items) <= key < len(items):
            raise ValueError(
                f"Cannot write output to index {key!r} of a batch of {len(items)} entries."
            )
        items[key] = value
    return type(batch)(items) if not hasattr(batch, "_fields") else type(batch)(*items)
