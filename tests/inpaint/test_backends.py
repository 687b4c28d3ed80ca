"""The protocol contract, for every non-generative backend: what any caller may rely on."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from shiftaug.inpaint import available_inpainters, get_inpainter, inpaint
from tests.checkers import all_dtypes, assert_same_bits

# name -> options; every registered backend that needs no model appears here (see the
# registry test below), the generative ones are tested in test_generative.py and the learned
# one (a shipped model file) in test_learned_backend.py.
BACKENDS = {
    "blur": {"sigma": 2.0},
    "constant": {"value": 0.25},
    "harmonic": {},
    "mean": {},
    "navier_stokes": {"radius": 3},
    "pull_push": {},
    "telea": {"radius": 3},
}
GENERATIVE = {"diffusers", "generative", "repaint"}
LEARNED = {"learned"}


def _batch(
    n: int = 3, c: int = 3, size: int = 20, dtype: torch.dtype = torch.float32, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    values = torch.rand(n, c, size, size, generator=g, dtype=torch.float64)
    images = (values * 255).round().to(dtype) if dtype == torch.uint8 else values.to(dtype)
    holes = torch.zeros(n, 1, size, size, dtype=torch.bool)
    for i in range(n):  # a different hole per sample, one touching the border
        top, left = (3 * i) % (size - 6), (5 * i + 2) % (size - 7)
        holes[i, 0, top : top + 6, left : left + 7] = True
    holes[-1, 0, :, :2] = True
    return images, holes


def test_every_registered_backend_is_tested() -> None:
    assert set(available_inpainters()) == set(BACKENDS) | GENERATIVE | LEARNED


@pytest.mark.parametrize("name", sorted(BACKENDS))
@pytest.mark.parametrize("dtype", all_dtypes())
def test_contract(name: str, dtype: torch.dtype, device: str) -> None:
    images, holes = _batch(dtype=dtype)
    images, holes = images.to(device), holes.to(device)
    before, before_holes = images.clone(), holes.clone()
    fill = get_inpainter(name, **BACKENDS[name])
    out = fill(images, holes)
    assert out.shape == images.shape and out.dtype == dtype and out.device == images.device
    assert_same_bits(images, before)  # input untouched
    assert torch.equal(holes, before_holes)
    outside = ~holes.expand_as(images)
    assert_same_bits(out[outside], images[outside])  # known pixels bit-identical
    assert torch.isfinite(out.float()).all()
    # Batched equals one call per sample.
    for i in range(images.shape[0]):
        assert_same_bits(fill(images[i : i + 1], holes[i : i + 1])[0], out[i])


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_no_holes_empty_batch_one_channel_and_pickling(name: str) -> None:
    fill = get_inpainter(name, **BACKENDS[name])
    images, holes = _batch(c=1, dtype=torch.uint8)
    assert torch.equal(fill(images, torch.zeros_like(holes)), images)
    empty = fill(images[:0], holes[:0])
    assert empty.shape == (0, *images.shape[1:])
    clone = pickle.loads(pickle.dumps(fill))  # DataLoader workers pickle the backend
    assert torch.equal(clone(images, holes), fill(images, holes))
    assert type(fill).__name__ in repr(fill)


@pytest.mark.parametrize("name", ["harmonic", "pull_push", "blur", "mean"])
def test_fill_stays_within_the_known_range(name: str) -> None:
    # These fills are weighted means of known pixels (maximum principle), channel by channel.
    images, holes = _batch(n=4, size=24, seed=3)
    out = get_inpainter(name, **BACKENDS[name])(images, holes)
    known = ~holes.expand_as(images)
    for i in range(images.shape[0]):
        for c in range(images.shape[1]):
            values, filled = images[i, c][known[i, c]], out[i, c][~known[i, c]]
            assert values.min() - 1e-5 <= filled.min() and filled.max() <= values.max() + 1e-5


@pytest.mark.parametrize("name", ["harmonic", "pull_push", "blur", "mean"])
def test_constant_images_are_filled_with_the_constant(name: str) -> None:
    images = torch.full((2, 3, 17, 13), 0.375)
    holes = _batch(n=2, size=17)[1][..., :13]
    out = get_inpainter(name, **BACKENDS[name])(images, holes)
    torch.testing.assert_close(out, images, atol=1e-6, rtol=0)


def test_mean_equals_numpy_mean_of_known_pixels() -> None:
    images, holes = _batch(n=2, c=2)
    out = get_inpainter("mean")(images, holes)
    for i in range(2):
        known = ~holes[i, 0].numpy()
        for c in range(2):
            expected = images[i, c].numpy()[known].mean()
            np.testing.assert_allclose(out[i, c][holes[i, 0]].numpy(), expected, rtol=1e-5)


def test_blur_equals_scipy_normalised_convolution() -> None:
    from scipy.ndimage import gaussian_filter

    images, holes = _batch(n=2, c=1, size=24)
    out = get_inpainter("blur", sigma=2.0)(images.double(), holes)
    for i in range(2):
        known = (~holes[i, 0]).double().numpy()
        image = images[i, 0].double().numpy()
        blur = {"sigma": 2.0, "mode": "constant", "truncate": 3.0}
        mean = (image * known).sum() / known.sum()
        num = gaussian_filter(image * known, **blur) + 1e-3 * mean
        expected = num / (gaussian_filter(known, **blur) + 1e-3)
        hole = holes[i, 0].numpy()
        np.testing.assert_allclose(out[i, 0].numpy()[hole], expected[hole], rtol=1e-9)


def test_constant_per_channel_and_uint8() -> None:
    images, holes = _batch(dtype=torch.uint8)
    out = get_inpainter("constant", value=(10, 20, 30))(images, holes)
    for c, value in enumerate((10, 20, 30)):
        assert (out[:, c][holes[:, 0]] == value).all()


def test_whole_image_holes_fill_with_zero_for_torch_backends() -> None:
    images = torch.rand(2, 3, 9, 11) + 1
    holes = torch.ones(2, 1, 9, 11, dtype=torch.bool)
    for name in ("harmonic", "pull_push", "mean", "blur"):
        assert torch.equal(get_inpainter(name)(images, holes), torch.zeros_like(images)), name


@given(
    height=st.integers(1, 12),
    width=st.integers(1, 12),
    seed=st.integers(0, 2**16),
    name=st.sampled_from(["harmonic", "pull_push", "blur"]),
)
def test_any_size_and_hole_shape(height: int, width: int, seed: int, name: str) -> None:
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(2, 2, height, width, generator=g)
    holes = torch.rand(2, 1, height, width, generator=g) < 0.5
    out = inpaint(images, holes, name)
    assert out.shape == images.shape and torch.isfinite(out).all()
    assert torch.equal(out[~holes.expand_as(out)], images[~holes.expand_as(images)])


def test_importing_the_package_loads_neither_opencv_nor_diffusers() -> None:
    import subprocess
    import sys

    code = "import sys, shiftaug.inpaint; print('cv2' in sys.modules, 'diffusers' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_images_that_require_grad(name: str) -> None:
    # Fills are augmentations: the known pixels pass their gradient through unchanged.
    images, holes = _batch(n=2)
    images.requires_grad_(True)
    get_inpainter(name, **BACKENDS[name])(images, holes).sum().backward()
    known = ~holes.expand_as(images)
    assert images.grad is not None
    if name in ("blur", "mean"):  # these fills are differentiable means of the known pixels
        assert (images.grad[known] > 1).any() and (images.grad[~known] == 0).all()
    else:
        assert (images.grad[known] == 1).all() and (images.grad[~known] == 0).all()
