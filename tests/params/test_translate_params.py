"""TranslateParams checks itself: its structure when built, its values when replayed."""

from __future__ import annotations

import pytest
import torch

import shiftaug
from shiftaug import RandomTranslate, TranslateParams
from shiftaug.params import sample_translate

ONES = torch.ones(2, dtype=torch.bool)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"shift": [[0, 0], [1, 1]]}, TypeError, "`params.shift` must be a torch.Tensor"),
        (
            {"shift": torch.zeros(2, 3)},
            ValueError,
            r"`params.shift` must be a real-valued tensor of shape \(N, 2\)",
        ),
        ({"shift": torch.zeros(2)}, ValueError, r"`params.shift` must have shape \(N, 2\)"),
        (
            {"shift": torch.zeros(2, 2, dtype=torch.bool)},
            TypeError,
            "`params.shift` must be a real-valued",
        ),
        ({"applied": torch.ones(2)}, TypeError, r"`params.applied` must have dtype in \(bool\)"),
        (
            {"applied": torch.ones(3, dtype=torch.bool)},
            ValueError,
            r"`params.applied` must hold one flag per sample \(2\)",
        ),
        ({"applied": [True, True]}, TypeError, "`params.applied` must be a torch.Tensor"),
        ({"image_size": None}, TypeError, r"`params.image_size` must be a pair \(H, W\) of ints"),
        (
            {"image_size": (0, 4)},
            ValueError,
            r"`params.image_size` must be a pair \(H, W\) of ints >= 1",
        ),
    ],
)
def test_a_malformed_record_fails_where_it_is_built(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    fields: dict[str, object] = {"shift": torch.zeros(2, 2), "applied": ONES, "image_size": (4, 4)}
    fields.update(kwargs)
    with pytest.raises(error, match=message):
        TranslateParams(**fields)  # type: ignore[arg-type]


def test_torch_size_and_any_real_shift_dtype_are_accepted() -> None:
    record = TranslateParams(torch.zeros(2, 2, dtype=torch.int64), ONES, torch.Size([4, 5]))
    assert record.image_size == (4, 5) and isinstance(record.image_size, tuple)
    record.validate(2, (4, 5))


@pytest.mark.parametrize(
    ("shift", "applied", "count", "size", "message"),
    [
        (
            [[float("nan"), 0.0], [0.0, 0.0]],
            [True, True],
            2,
            (4, 4),
            "`params.shift` must be finite",
        ),
        (
            [[float("inf"), 0.0], [0.0, 0.0]],
            [True, True],
            2,
            (4, 4),
            "`params.shift` must be finite",
        ),
        (
            [[1.0, 0.0], [0.0, 2.0]],
            [True, False],
            2,
            (4, 4),
            r"must be zero where `params.applied` is False, but got shifts such as \[\[0.0, 2.0\]\]",
        ),
        (
            [[0.0, 0.0], [0.0, 0.0]],
            [True, True],
            3,
            (4, 4),
            "`params` were drawn for 2 samples, but the images hold 3",
        ),
        (
            [[0.0, 0.0], [0.0, 0.0]],
            [True, True],
            2,
            (8, 4),
            r"drawn for images of size \(4, 4\), but got images of size \(8, 4\)",
        ),
    ],
)
def test_validate_reads_the_values(
    shift: list, applied: list, count: int, size: tuple[int, int], message: str
) -> None:
    record = TranslateParams(torch.tensor(shift), torch.tensor(applied), (4, 4))
    with pytest.raises(ValueError, match=message):
        record.validate(count, size)


def test_value_checks_follow_set_validate_args() -> None:
    record = TranslateParams(torch.tensor([[float("nan"), 0.0]]), torch.tensor([True]), (4, 4))
    shiftaug.set_validate_args(False)
    try:
        record.validate(1, (4, 4))  # values unread
        with pytest.raises(ValueError, match="drawn for 1 samples"):
            record.validate(2, (4, 4))  # structure still checked
    finally:
        shiftaug.set_validate_args(True)


def test_every_replay_path_validates_like_a_draw() -> None:
    # A NaN shift used to zero the image silently; params for other sizes were accepted.
    images = torch.rand(2, 1, 4, 4)
    t = RandomTranslate(shift_px=1)
    nan = TranslateParams(torch.tensor([[float("nan"), 0.0], [0.0, 0.0]]), ONES, (4, 4))
    other = TranslateParams(torch.zeros(2, 2), ONES, (8, 8))
    for call in (t.forward, t.inverse):
        with pytest.raises(ValueError, match="`params.shift` must be finite"):
            call(images, params=nan)
        with pytest.raises(ValueError, match=r"drawn for images of size \(8, 8\)"):
            call(images, params=other)
    assert t.last_params is None


def test_select_and_to_check_their_arguments() -> None:
    record = sample_translate(4, (8, 8), shift_px=2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(record.select(-4).shift, record.shift[:1])
    with pytest.raises(IndexError, match=r"`index` must lie in \[-4, 4\) for 4 samples, but got 4"):
        record.select(4)  # used to return an empty record
    with pytest.raises(TypeError, match="`index` must be an int, a slice or an integer or bool"):
        record.select("0")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"or bool tensor, but got a tensor .* torch.float32"):
        record.select(torch.tensor([0.5]))  # used to be torch's IndexError
    assert torch.equal(record.select(torch.tensor([3, 1])).shift, record.shift[[3, 1]])
    with pytest.raises(ValueError, match="`device` must name a device"):
        record.to("gpu0")
    assert len(record.select(slice(1, 3))) == 2 and len(record.inverse()) == 4


def test_a_device_this_machine_lacks_is_a_named_error() -> None:
    # It used to reach torch's driver error ("Found no NVIDIA driver"), naming no argument.
    missing = f"cuda:{torch.cuda.device_count() + 3}"
    pattern = rf"`device` must name a device this machine has, but got '{missing}' \("
    with pytest.raises(ValueError, match=pattern):
        sample_translate(2, (4, 4), shift_px=1, device=missing)
    with pytest.raises(ValueError, match=pattern):
        sample_translate(2, (4, 4), shift_px=1, device=torch.device(missing))
    record = sample_translate(2, (4, 4), shift_px=1)
    with pytest.raises(ValueError, match=pattern):
        record.to(missing)
    if not torch.backends.mps.is_available():
        with pytest.raises(ValueError, match=r"but got 'mps' \(MPS is not available\)"):
            record.to("mps")
    assert record.to("cpu").shift.device.type == "cpu"
    assert sample_translate(2, (4, 4), shift_px=1, device="meta").shift.is_meta


def test_sampler_accepts_numpy_numbers() -> None:
    np = pytest.importorskip("numpy")
    record = sample_translate(
        np.int64(3), (np.int64(8), 8), shift_px=np.float32(2.0), p=np.float32(1.0)
    )
    assert record.shift.shape == (3, 2) and bool((record.shift.abs() <= 2).all())


def test_shift_range_is_bounded_where_float32_holds_whole_pixels() -> None:
    top = 2**24
    assert sample_translate(2, (4, 4), shift_px=top).shift.abs().max() <= top
    with pytest.raises(ValueError, match=r"`shift_px` must lie within \+-16777216 pixels"):
        sample_translate(2, (4, 4), shift_px=top + 1)
    with pytest.raises(
        ValueError,
        match=r"`shift_frac` must lie within \+-16777216 pixels .* for an image of size "
        r"\(4, 33554432\) it spans x in \[-3.35544e\+07, 3.35544e\+07\]",
    ):
        sample_translate(1, (4, 2**25), shift_frac=1.0)
