"""Edges of the placement transforms: samples without objects, replayed parameters checked like
drawn ones, placement semantics (non-overlap, scaled pastes, remnants), the fill protocol."""

from __future__ import annotations

import pytest
import torch

from shiftaug import CopyPaste, PlacementParams, RandomRelocate
from shiftaug.functional import translate_mask
from shiftaug.functional._instances import mask_area
from shiftaug.functional._placement import scale_masks
from shiftaug.inpaint._base import _REGISTRY, register_inpainter

from .helpers import MeanFill, rect_scene

POLICIES = ["uniform", "same", "non_overlapping", "grid", "context"]
BLENDS = ["hard", "antialias", "feather", "poisson"]


def _both(**options: object) -> list[RandomRelocate | CopyPaste]:
    g = torch.Generator().manual_seed(0)
    return [RandomRelocate(MeanFill(), generator=g, **options), CopyPaste(generator=g, **options)]  # type: ignore[arg-type]


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("blend", BLENDS)
def test_samples_without_objects_pass_through(policy: str, blend: str) -> None:
    images = torch.rand(3, 2, 12, 10)
    none = torch.zeros(3, 0, 12, 10, dtype=torch.bool)
    labels, points = torch.zeros(3, 0, dtype=torch.long), torch.zeros(3, 0, 2, 2)
    for t in _both(policy=policy, blend=blend):
        out = t(images, none, labels=labels, keypoints=points)
        assert torch.equal(out.image, images)
        assert out.masks.shape[:2] == out.valid.shape == (3, 0)
        assert out.boxes.shape == (3, 0, 4) and out.keypoints is not None
        assert out.keypoints.shape == (3, 0, 2, 2) and out.labels is not None
        replayed = t(images, none, params=out.params)
        assert torch.equal(replayed.image, images)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_images_whose_objects_are_all_invalid_or_absent_pass_through(dtype: torch.dtype) -> None:
    images, masks = rect_scene(dtype=dtype)
    invalid = torch.zeros(masks.shape[:2], dtype=torch.bool)
    for t in _both(num_objects="all"):
        out = t(images, masks, invalid)
        assert torch.equal(out.image, images) and not bool(out.valid.any())
        assert not bool(out.params.requested.any())
    empty_map = torch.zeros(3, *images.shape[-2:], dtype=torch.long)  # a label map, no ids
    for t in _both():
        out = t(images, empty_map)
        assert torch.equal(out.image, images) and torch.equal(out.masks, empty_map)
    for t in _both():  # one image without a batch dimension
        out = t(images[0], torch.zeros(0, *images.shape[-2:], dtype=torch.bool))
        assert torch.equal(out.image, images[0]) and out.masks.shape == (0, *images.shape[-2:])


def _one(
    at: int = 0, move: tuple[float, float] = (1.0, 0.0), factor: float = 1.0, **fields: object
) -> PlacementParams:
    """One entry (object ``at``, moved by ``move``, scaled by ``factor``) for one image of
    24 x 28 with 3 slots; ``fields`` replace whole fields."""
    yes = torch.ones(1, 1, dtype=torch.bool)
    values: dict[str, object] = {
        "index": torch.tensor([[at]]),
        "shift": torch.tensor([[move]], dtype=torch.float32),
        "scale": torch.tensor([[factor]]),
        "requested": yes,
        "placed": yes,
        "image_size": (24, 28),
        "slots": 3,
    }
    values.update(fields)
    return PlacementParams(**values)  # type: ignore[arg-type]


NAN, INF = float("nan"), float("inf")
BAD_REPLAYS = [
    (_one(0, (NAN, 0.0)), "finite moves"),
    (_one(0, (INF, 0.0)), "finite moves"),
    (_one(0, (2**25, 0.0)), "at most 16777216 pixels"),
    (_one(0, (1.5, 0.0)), "whole-pixel moves"),
    (_one(3, (1.0, 0.0)), r"flat object indices in \[0, 3\)"),
    (_one(-1, (1.0, 0.0)), r"flat object indices in \[0, 3\)"),
    (_one(0, (1.0, 0.0), requested=torch.zeros(1, 1, dtype=torch.bool)), "must imply"),
]


@pytest.mark.parametrize(("params", "match"), BAD_REPLAYS)
def test_replayed_params_are_checked_like_drawn_ones(params: PlacementParams, match: str) -> None:
    images, masks = rect_scene(batch=1)
    before = images.clone()
    for t in _both():
        with pytest.raises(ValueError, match=match):
            t(images, masks, params=params)
        assert torch.equal(images, before) and t.last_params is None


@pytest.mark.parametrize("scale", [NAN, INF, 0.0, -1.0])
def test_replayed_scales_must_be_finite_and_positive(scale: float) -> None:
    images, masks = rect_scene(batch=1)
    with pytest.raises(ValueError, match=r"finite scales > 0"):
        CopyPaste()(images, masks, params=_one(factor=scale))


def test_replayed_relocation_params_move_own_objects_once_unscaled() -> None:
    images, masks = rect_scene(batch=2)
    t = RandomRelocate(MeanFill())
    other = _one(3, (1.0, 0.0))  # image 0 taking image 1's object
    two = PlacementParams(
        index=torch.tensor([[0], [1]]), shift=torch.zeros(2, 1, 2), scale=torch.ones(2, 1),
        requested=torch.ones(2, 1, dtype=torch.bool), placed=torch.ones(2, 1, dtype=torch.bool),
        image_size=(24, 28), slots=3,
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"objects of the same image, but entry \[1, 0\]"):
        t(images, masks, params=two)
    twice = PlacementParams(
        index=torch.tensor([[1, 1]]), shift=torch.zeros(1, 2, 2), scale=torch.ones(1, 2),
        requested=torch.ones(1, 2, dtype=torch.bool), placed=torch.ones(1, 2, dtype=torch.bool),
        image_size=(24, 28), slots=3,
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"each object at most once"):
        t(images[:1], masks[:1], params=twice)
    with pytest.raises(ValueError, match=r"must be 1 for relocation"):
        t(images[:1], masks[:1], params=_one(factor=2.0))
    assert other.source_image.tolist() == [[1]] and other.source_slot.tolist() == [[0]]
    copy = CopyPaste()(images, masks, params=two)  # copy-paste may take any image's object
    assert copy.params is two


def test_replayed_params_must_fit_the_call() -> None:
    images, masks = rect_scene(batch=1)
    valid = torch.tensor([[True, False, True]])
    for t in _both():
        with pytest.raises(ValueError, match=r"drawn for images of size \(24, 28\).*\(24, 27\)"):
            t(images[..., :27], masks[..., :27], params=_one(0, (1.0, 0.0)))
        with pytest.raises(ValueError, match=r"drawn for 1 images with 2 mask slots"):
            t(images, masks, params=_one(slots=2))
        with pytest.raises(ValueError, match=r"must refer to valid objects, but entry \[0, 0\]"):
            t(images, masks, valid, params=_one(1, (1.0, 0.0)))


@pytest.mark.parametrize(
    ("fields", "error", "match"),
    [
        ({"index": torch.tensor([[0.0]])}, TypeError, r"`index` must have dtype in \(int64\)"),
        ({"index": torch.tensor([0])}, ValueError, r"`index` must have shape \(N, J\)"),
        ({"shift": torch.zeros(1, 1, 3)}, ValueError, r"`shift` must have shape \(1, 1, 2\)"),
        ({"shift": torch.zeros(1, 1, 2, dtype=torch.long)}, TypeError, r"`shift` must be a float"),
        ({"scale": torch.ones(1, 2)}, ValueError, r"`scale` must have shape \(1, 1\)"),
        ({"placed": torch.ones(1, 1)}, TypeError, r"`placed` must be a bool tensor"),
        ({"requested": [[True]]}, TypeError, r"`requested` must be a torch.Tensor"),
        ({"image_size": [24, 28]}, TypeError, r"`image_size` must be a tuple \(H, W\)"),
        ({"image_size": (0, 28)}, ValueError, r"`image_size\[0\]` must be an int >= 1"),
        ({"slots": -1}, ValueError, r"`slots` must be an int >= 0, but got -1"),
        ({"slots": 2.0}, TypeError, r"`slots` must be an int >= 0"),
    ],
)
def test_params_check_their_fields(fields: dict[str, object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        _one(**fields)


def test_an_object_that_cannot_move_keeps_its_place_free_of_earlier_moves() -> None:
    # A 1 x 4 strip: A (1 pixel) at x = 0, B (3 pixels) at x = 1..3. If A moved onto x = 2
    # first, B would find no free place and stay: the two would overlap. B's place must stay
    # blocked until B has moved.
    images = torch.rand(64, 1, 1, 4, generator=torch.Generator().manual_seed(0))
    masks = torch.zeros(64, 2, 1, 4, dtype=torch.bool)
    masks[:, 0, 0, 0] = True
    masks[:, 1, 0, 1:] = True
    for seed in range(4):
        t = RandomRelocate(
            MeanFill(), num_objects="all", policy="non_overlapping",
            generator=torch.Generator().manual_seed(seed),
        )  # fmt: skip
        out = t(images, masks)
        assert bool(out.valid.all())
        _assert_nothing_covered(out, masks)


def _assert_nothing_covered(out, masks: torch.Tensor) -> None:  # type: ignore[no-untyped-def]
    """Every object shows whole, where it was or where it moved: nothing covered another."""
    params = out.params
    for n in range(masks.shape[0]):
        moves = {
            int(params.source_slot[n, j]): params.shift[n, j]
            for j in range(params.index.shape[1])
            if params.placed[n, j]
        }
        for k in range(masks.shape[1]):
            if masks[n, k].any():
                expected = translate_mask(masks[n, k], moves.get(k, torch.zeros(2)))
                assert torch.equal(out.masks[n, k], expected), f"image {n}, object {k}"


def _crowded(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Many small disjoint objects on a small frame: some cannot move."""
    g = torch.Generator().manual_seed(seed)
    masks = torch.zeros(16, 6, 10, 12, dtype=torch.bool)
    for n in range(16):
        for k in range(6):
            top, left = (int(v) for v in torch.randint(0, 8, (2,), generator=g))
            masks[n, k, top : top + 2 + (k % 2), left : left + 3] = True
    for k in range(1, 6):  # disjoint objects (later slots lose what earlier ones hold)
        masks[:, k] &= ~masks[:, :k].any(1)
    return torch.rand(16, 3, 10, 12, generator=g), masks


@pytest.mark.parametrize("seed", range(6))
def test_non_overlapping_relocation_never_overlaps(seed: int) -> None:
    images, masks = _crowded(seed)
    valid = masks.flatten(2).any(-1)
    t = RandomRelocate(
        MeanFill(), num_objects="all", policy="non_overlapping", shift_px=4,
        generator=torch.Generator().manual_seed(seed),
    )  # fmt: skip
    out = t(images, masks, valid)
    assert bool(out.params.placed.any()) and bool(out.valid[valid].all())
    _assert_nothing_covered(out, masks)


@pytest.mark.parametrize("seed", range(4))
def test_scaled_pastes_are_never_cut_by_the_frame_with_min_inside_1(seed: int) -> None:
    images, masks = rect_scene(batch=4, seed=seed)
    t = CopyPaste(
        num_objects="all", policy="uniform", scale_range=(1.5, 2.5),
        generator=torch.Generator().manual_seed(seed),
    )  # fmt: skip
    out = t(images, masks)
    params, slots = out.params, masks.shape[1]
    assert bool(params.placed.any())
    for n in range(4):
        for j in torch.nonzero(params.placed[n]).flatten().tolist():
            b, k = int(params.source_image[n, j]), int(params.source_slot[n, j])
            whole = scale_masks(masks[b, k][None], params.scale[n, j][None], pad=40)
            # A paste on top may cover it, but the frame may not cut it.
            assert int(whole.sum()) >= int(out.masks[n, slots + j].sum())
            pasted = scale_masks(
                masks[b, k][None], params.scale[n, j][None], shift=params.shift[n, j][None]
            )
            assert int(pasted.sum()) == int(whole.sum())


def test_clipped_remnants_are_measured_the_same_way_by_both_transforms() -> None:
    images, masks = rect_scene(batch=2)  # object 0: 6 x 5 = 30 pixels at (2, 3)
    params = PlacementParams(
        index=torch.tensor([[3], [0]]), shift=torch.tensor([[[-6.0, 0.0]], [[6.0, 0.0]]]),
        scale=torch.ones(2, 1), requested=torch.ones(2, 1, dtype=torch.bool),
        placed=torch.ones(2, 1, dtype=torch.bool), image_size=(24, 28), slots=3,
    )  # fmt: skip
    # 6 pixels of width 5 leave by 6 - 3 = 3 columns: 2 x 6 = 12 of 30 pixels remain.
    relocate_params = PlacementParams(
        index=torch.tensor([[0], [3]]), shift=params.shift, scale=params.scale,
        requested=params.requested, placed=params.placed, image_size=(24, 28), slots=3,
    )  # fmt: skip
    for min_area, kept in ((12, True), (13, False)):
        moved = RandomRelocate(MeanFill(), min_area=min_area)(images, masks, params=relocate_params)
        pasted = CopyPaste(min_area=min_area)(images, masks, params=params)
        assert bool(moved.valid[0, 0]) == kept and bool(pasted.valid[0, 3]) == kept
    for min_visibility, kept in ((0.4, True), (0.41, False)):  # 12 / 30 of the whole object
        moved = RandomRelocate(MeanFill(), min_visibility=min_visibility)(
            images, masks, params=relocate_params
        )
        pasted = CopyPaste(min_visibility=min_visibility)(images, masks, params=params)
        assert bool(moved.valid[0, 0]) == kept and bool(pasted.valid[0, 3]) == kept
    tiny = RandomRelocate(MeanFill(), min_area=100)(images, masks, params=relocate_params)
    assert bool(tiny.valid[1, 0])  # moved whole: kept however small (it was that small)
    assert int(mask_area(tiny.masks[1, 0])) == 30


@pytest.mark.parametrize("blend", ["feather", "hard"])
def test_scaled_and_blended_remnants_use_the_whole_scaled_area(blend: str) -> None:
    images, masks = rect_scene(batch=2)
    params = PlacementParams(
        index=torch.tensor([[3], [0]]), shift=torch.tensor([[[-6.0, 0.0]], [[0.0, 0.0]]]),
        scale=torch.tensor([[2.0], [1.0]]), requested=torch.ones(2, 1, dtype=torch.bool),
        placed=torch.ones(2, 1, dtype=torch.bool), image_size=(24, 28), slots=3,
    )  # fmt: skip
    whole = int(scale_masks(masks[1, 0][None], torch.tensor([2.0]), pad=20).sum())
    inside = int(scale_masks(masks[1, 0][None], torch.tensor([2.0]), shift=params.shift[0]).sum())
    assert 0 < inside < whole
    fraction = inside / whole
    keep = CopyPaste(scale_range=(2.0, 2.0), min_visibility=fraction, blend=blend)
    drop = CopyPaste(scale_range=(2.0, 2.0), min_visibility=fraction + 0.01, blend=blend)
    assert bool(keep(images, masks, params=params).valid[0, 3])
    assert not bool(drop(images, masks, params=params).valid[0, 3])


class _Scribble:
    """A backend that breaks the protocol: it also paints outside the holes."""

    def __call__(self, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
        return torch.full_like(images, 7)


@pytest.fixture
def scribble() -> object:
    register_inpainter("test-scribble")(_Scribble)
    yield "test-scribble"
    _REGISTRY.pop("test-scribble")


def test_named_and_callable_backends_are_both_kept_to_the_holes(scribble: str) -> None:
    images, masks = rect_scene(dtype=torch.uint8)
    exact = {"blend": "hard", "hole_margin": 0}
    t_name = RandomRelocate(scribble, generator=torch.Generator().manual_seed(0), **exact)
    t_call = RandomRelocate(_Scribble(), generator=torch.Generator().manual_seed(0), **exact)
    by_name, by_call = t_name(images, masks), t_call(images, masks)
    assert torch.equal(by_name.image, by_call.image)
    changed = (by_name.image != images).any(1)
    hole_or_paste = torch.zeros_like(changed)
    for n in range(3):
        for j in torch.nonzero(by_name.params.placed[n]).flatten().tolist():
            k = int(by_name.params.source_slot[n, j])
            moved = translate_mask(masks[n, k], by_name.params.shift[n, j])
            hole_or_paste[n] |= masks[n, k] | moved
    assert not bool((changed & ~hole_or_paste).any())


def test_a_backend_must_keep_dtype_shape_and_type() -> None:
    images, masks = rect_scene(dtype=torch.uint8)
    cases = [
        (lambda i, h: i.float(), ValueError, r"dtype torch.uint8 \(the protocol keeps both\)"),
        (lambda i, h: i[:, :1], ValueError, r"must return images of shape"),
        (lambda i, h: i.numpy(), TypeError, r"must return a torch.Tensor"),
    ]
    for fill, error, match in cases:
        with pytest.raises(error, match=match):
            RandomRelocate(fill)(images, masks)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"policy": "same", "shift_px": 4}, r"`shift_px/shift_frac` is not used by policy='same'"),
        ({"policy": "same", "min_inside": 0.5}, r"`min_inside` is not used by policy='same'"),
        ({"region": torch.ones(4, 4, dtype=torch.bool)}, r"`region` is not used by policy="),
        ({"density": torch.ones(4, 4)}, r"`density` is not used by policy="),
        ({"stride": 4}, r"`stride` is not used by policy="),
        ({"context_width": 2}, r"`context_width` is not used by policy="),
        ({"context_sigma": 0.1}, r"`context_sigma` is not used by policy="),
        ({"sigma": 2.0}, r"`sigma` is only read with blend='feather'"),
        ({"levels": 2}, r"`levels` is only read with blend='laplacian'"),
        ({"iterations": 20}, r"`iterations` is only read with blend='poisson'"),
    ],
)
def test_options_that_would_be_ignored_raise(options: dict[str, object], match: str) -> None:
    policy = options.pop("policy", "uniform")
    with pytest.raises(ValueError, match=match):
        RandomRelocate(MeanFill(), policy=policy, **options)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=match):
        CopyPaste(policy=policy, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0])
def test_density_must_be_finite_and_non_negative(value: float) -> None:
    density = torch.ones(8, 8)
    density[2, 3] = value
    with pytest.raises(ValueError, match=r"`density` must hold finite values >= 0"):
        RandomRelocate(MeanFill(), policy="density", density=density)
    with pytest.raises(ValueError, match=r"`density` must hold finite values >= 0"):
        CopyPaste(policy="density", density=density)
