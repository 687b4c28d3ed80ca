"""kornia conformance: the checks kornia's base tester runs over its own augmentations.

kornia's ``CommonTests`` (``test/augmentation/test_augmentation.py``) check every augmentation
for: a smoke run of ``forward_parameters`` / ``compute_transformation`` / ``apply_transform``,
cardinality (``(H, W)``, ``(C, H, W)`` and ``(B, C, H, W)`` inputs), ``p = 0`` and ``p = 1``,
the inverse coordinate check through ``transform_matrix``, module composition in
``AugmentationSequential`` and ``gradcheck``. The same checks, in our words, run here over every
shiftaug kornia adapter, plus ``batch_prob`` gating, ``same_on_batch``, ``VideoSequential`` and
``torch.compile(fullgraph=True)`` inside ``AugmentationSequential``, with the stock
``RandomAffine`` (translation only) as the control that must pass them too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kornia.augmentation as K
import pytest
import torch
from kornia.augmentation import AugmentationSequential

from shiftaug.adapters import kornia as sk

Factory = Callable[..., Any]

ADAPTERS: dict[str, Factory] = {
    "RandomTranslate": lambda **kw: sk.RandomTranslate(shift_px=2, **kw),
    "RandomTranslate-bilinear": lambda **kw: sk.RandomTranslate(
        shift_frac=0.2, interpolation="bilinear", **kw
    ),
    "stock-RandomAffine": lambda **kw: K.RandomAffine(degrees=0.0, translate=0.2, **kw),
}
ADAPTER_CLASSES = {sk.RandomTranslate}


@pytest.fixture(params=list(ADAPTERS))
def factory(request: pytest.FixtureRequest) -> Factory:
    return ADAPTERS[request.param]


def test_smoke(factory: Factory) -> None:
    aug = factory(p=0.5)
    shape = (4, 3, 5, 6)
    params = aug.forward_parameters(shape)
    applied = params["batch_prob"] > 0.5
    images = torch.ones(shape)
    matrices = aug.compute_transformation(images, params, aug.flags)
    assert matrices.shape == (4, 3, 3)
    out = aug.apply_transform(images, params, aug.flags, matrices)
    assert out.shape == shape
    out = aug(images, params=params)
    assert out.shape == shape and aug.transform_matrix.shape == (4, 3, 3)
    assert torch.equal(out[~applied], images[~applied])


@pytest.mark.parametrize(
    ("shape", "expected"),
    [((4, 5), (1, 1, 4, 5)), ((3, 4, 5), (1, 3, 4, 5)), ((2, 3, 4, 5), (2, 3, 4, 5))],
)
@pytest.mark.parametrize("p", [0.0, 1.0])
def test_cardinality(factory: Factory, shape: tuple[int, ...], expected: tuple, p: float) -> None:
    assert factory(p=p)(torch.rand(shape)).shape == expected
    assert factory(p=p, keepdim=True)(torch.rand(shape)).shape == shape


def test_p_zero_is_the_identity(factory: Factory) -> None:
    images = torch.rand(2, 3, 4, 5)
    assert torch.equal(factory(p=0.0)(images), images)


def test_p_one_applies_to_every_sample_and_replays(factory: Factory) -> None:
    aug = factory(p=1.0)
    images = torch.rand(6, 3, 8, 9)
    out = aug(images)
    assert bool((aug._params["batch_prob"] > 0.5).all())
    assert torch.equal(aug(images, params=aug._params), out)


@pytest.mark.parametrize("p_batch", [0.0, 1.0])
def test_batch_prob_skips_are_unchanged_and_replay_exactly(
    factory: Factory, p_batch: float
) -> None:
    torch.manual_seed(0)
    aug = factory(p=0.5)
    aug.p_batch = p_batch  # kornia's RandomAffine takes no p_batch argument
    images = torch.rand(16, 3, 8, 9)
    out = aug(images)
    skipped = ~(aug._params["batch_prob"] > 0.5)
    assert torch.equal(out[skipped], images[skipped])
    assert torch.equal(aug(images, params=aug._params), out)


def test_same_on_batch_treats_every_sample_alike(factory: Factory) -> None:
    torch.manual_seed(1)
    images = torch.rand(1, 3, 8, 9).expand(5, -1, -1, -1)
    out = factory(p=1.0, same_on_batch=True)(images)
    assert all(torch.equal(out[0], out[i]) for i in range(5))


def test_inverse_coordinate_check(factory: Factory) -> None:
    """Output pixels map back through ``transform_matrix`` onto input pixels of equal value."""
    torch.manual_seed(42)
    images = torch.zeros(1, 3, 50, 100)
    images[:, :, 20:30, 40:60] = 1.0
    aug = factory(p=1.0)
    out = aug(images)
    inverse = torch.linalg.inv(aug.transform_matrix[0].double())
    rows, cols = torch.nonzero(out[0, 0] > 0.9999, as_tuple=True)
    points = torch.stack([cols, rows, torch.ones_like(rows)]).double()
    source = (inverse @ points)[:2].round().long()
    assert rows.numel() > 0
    torch.testing.assert_close(
        out[0, :, rows, cols], images[0, :, source[1], source[0]], atol=1e-4, rtol=1e-4
    )


def test_inverse_restores_the_pixels_that_stayed(factory: Factory) -> None:
    """On a linear ramp (which bilinear resampling keeps exactly), ``inverse`` restores every
    pixel that stayed in the frame."""
    torch.manual_seed(2)
    sequence = AugmentationSequential(factory(p=1.0), data_keys=["input"])
    rows, cols = torch.meshgrid(torch.arange(12.0), torch.arange(12.0), indexing="ij")
    images = (0.01 * cols + 0.02 * rows + 0.1).expand(4, 3, 12, 12).double()
    restored = sequence.inverse(sequence(images))
    params = sequence._params
    ones = sequence.inverse(sequence(torch.ones_like(images), params=params), params=params)
    inside = ones > 1 - 1e-6
    assert inside.flatten(1).any(1).all()  # something stayed in every image
    torch.testing.assert_close(restored[inside], images[inside], atol=1e-5, rtol=1e-5)


def test_module_composition_in_augmentation_sequential(factory: Factory) -> None:
    """A sequence equals its modules applied in turn with the parameters it drew, and its
    matrix is their product (two instances: kornia 0.9 keeps one child per module object)."""
    first, second = factory(p=0.5), factory(p=0.5)
    sequence = AugmentationSequential(first, second)
    images = torch.rand(3, 3, 5, 5)
    torch.manual_seed(42)
    out = sequence(images)
    one, two = (item.data for item in sequence._params)
    torch.testing.assert_close(out, second(first(images, params=one), params=two))
    composed = second.transform_matrix @ first.transform_matrix
    torch.testing.assert_close(sequence.transform_matrix, composed)


def test_gradcheck(factory: Factory) -> None:
    aug = factory(p=1.0)
    images = torch.rand(1, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    params = aug.forward_parameters(images.shape)
    assert torch.autograd.gradcheck(lambda x: aug(x, params=params), (images,))


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_dtype_is_kept(factory: Factory, dtype: torch.dtype) -> None:
    assert factory(p=1.0)(torch.rand(2, 3, 8, 8, dtype=dtype)).dtype == dtype


def test_video_sequential_shares_a_clip_move_across_frames(factory: Factory) -> None:
    torch.manual_seed(3)
    frame = torch.rand(2, 1, 3, 10, 10)
    clips = frame.expand(-1, 4, -1, -1, -1)  # four identical frames per clip
    out = K.VideoSequential(factory(p=1.0), data_format="BTCHW", same_on_frame=True)(clips)
    assert out.shape == clips.shape
    assert all(torch.equal(out[:, 0], out[:, t]) for t in range(4))


def test_torch_compile_fullgraph_in_augmentation_sequential(factory: Factory) -> None:
    torch.manual_seed(4)
    sequence = AugmentationSequential(factory(p=0.5), data_keys=["input", "mask"])
    compiled = torch.compile(sequence, fullgraph=True, backend="eager")
    images, masks = torch.rand(4, 3, 12, 12), torch.rand(4, 1, 12, 12)
    out_images, out_masks = compiled(images, masks)
    replay = sequence(images, masks, params=sequence._params)
    torch.testing.assert_close(out_images, replay[0])
    assert out_masks.shape == masks.shape
