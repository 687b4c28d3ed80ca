"""translate_image: exactness against NumPy/slicing/roll references, dtypes, devices, errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch

from shiftaug.functional import PADDING_MODES, translate_image
from tests.checkers import all_dtypes, assert_same_bits, check_kernel
from tests.references import shift_reference, slice_shift

SIZES = [(1, 1), (1, 5), (4, 1), (5, 7), (8, 8)]


def _images(dtype: torch.dtype, shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    values = torch.rand(shape, generator=g, dtype=torch.float64)
    if dtype == torch.uint8:
        return (values * 255).round().to(dtype)
    return (values * 4 - 2).to(dtype)


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", all_dtypes())
def test_nearest_matches_numpy_pad_reference(
    mode: str, size: tuple[int, int], dtype: torch.dtype
) -> None:
    images = _images(dtype, (4, 2, *size))
    g = torch.Generator().manual_seed(1)
    # Shifts up to twice the image size: every mode must be defined beyond one period.
    shift = torch.randint(-2 * max(size) - 1, 2 * max(size) + 2, (4, 2), generator=g)
    fill = 3.0 if mode == "constant" else 0.0
    out = translate_image(images, shift, padding_mode=mode, fill=fill)
    for n in range(4):
        expected = shift_reference(images[n], int(shift[n, 0]), int(shift[n, 1]), mode, fill)
        assert_same_bits(out[n], expected)


@pytest.mark.parametrize("dtype", all_dtypes())
def test_nearest_zeros_is_bit_identical_to_slicing(dtype: torch.dtype) -> None:
    images = _images(dtype, (6, 3, 9, 11))
    if dtype.is_floating_point:  # values that arithmetic masking would corrupt
        images[0, 0, 0, 0], images[1, 1, 4, 4], images[2, 2, 8, 10] = (
            float("nan"),
            float("inf"),
            -0.0,
        )
    shift = torch.tensor([[3, -2], [-4, 1], [0, 0], [10, 0], [-1, -8], [2, 5]])
    out = translate_image(images, shift)
    for n in range(6):
        assert_same_bits(out[n], slice_shift(images[n], int(shift[n, 0]), int(shift[n, 1])))


@pytest.mark.parametrize("mode", PADDING_MODES)
def test_grad_path_matches_fast_path(mode: str) -> None:
    images = _images(torch.float64, (3, 2, 6, 7))
    shift = torch.tensor([[2, -1], [-9, 3], [0, 14]])
    fill = -1.5 if mode == "constant" else 0.0
    fast = translate_image(images, shift, padding_mode=mode, fill=fill)
    slow = translate_image(images.clone().requires_grad_(), shift, padding_mode=mode, fill=fill)
    assert torch.equal(fast, slow.detach())


def test_circular_equals_roll_and_inverts() -> None:
    images = _images(torch.float32, (5, 3, 7, 9))
    shift = torch.tensor([[1, 2], [-30, 4], [9, -7], [0, 0], [100, -100]])
    out = translate_image(images, shift, padding_mode="circular")
    for n in range(5):
        rolled = torch.roll(images[n], (int(shift[n, 1]), int(shift[n, 0])), dims=(-2, -1))
        assert torch.equal(out[n], rolled)
    back = translate_image(out, -shift, padding_mode="circular")
    assert torch.equal(back, images)


def test_constant_fill_per_channel() -> None:
    images = _images(torch.uint8, (2, 3, 4, 4))
    out = translate_image(images, [[2, 0], [0, -1]], padding_mode="constant", fill=(10, 20, 30))
    assert out[0, :, :, :2].flatten(1).unique(dim=1).tolist() == [[10], [20], [30]]
    assert out[1, :, -1, :].flatten(1).unique(dim=1).tolist() == [[10], [20], [30]]


@pytest.mark.parametrize("mode", PADDING_MODES)
def test_bilinear_matches_scipy(mode: str) -> None:
    scipy_mode = {
        "zeros": "grid-constant", "constant": "grid-constant", "reflect": "mirror",
        "symmetric": "reflect", "replicate": "nearest", "circular": "grid-wrap",
    }[mode]  # fmt: skip
    images = _images(torch.float64, (4, 2, 6, 9))
    g = torch.Generator().manual_seed(3)
    shift = (torch.rand(4, 2, generator=g, dtype=torch.float64) - 0.5) * 24
    fill = 0.25 if mode == "constant" else 0.0
    out = translate_image(images, shift, padding_mode=mode, fill=fill, interpolation="bilinear")
    for n in range(4):
        expected = ndi.shift(
            images[n].numpy(), (0, float(shift[n, 1]), float(shift[n, 0])),
            order=1, mode=scipy_mode, cval=fill, prefilter=False,
        )  # fmt: skip
        np.testing.assert_allclose(out[n].numpy(), expected, atol=1e-10)


@pytest.mark.parametrize("dtype", all_dtypes())
@pytest.mark.parametrize("mode", PADDING_MODES)
def test_bilinear_equals_nearest_for_integer_shifts(dtype: torch.dtype, mode: str) -> None:
    images = _images(dtype, (40, 3, 6, 5))  # > one CPU chunk for the small dtypes
    shift = torch.randint(-8, 9, (40, 2), generator=torch.Generator().manual_seed(4))
    fill = 1.0 if mode == "constant" else 0.0
    nearest = translate_image(images, shift, padding_mode=mode, fill=fill)
    bilinear = translate_image(
        images, shift.float(), padding_mode=mode, fill=fill, interpolation="bilinear"
    )
    assert torch.equal(nearest, bilinear)


def test_bilinear_uint8_rounds_like_float_reference() -> None:
    images = _images(torch.uint8, (3, 3, 8, 8))
    shift = torch.tensor([[0.5, 0.0], [1.25, -0.75], [-2.5, 3.5]])
    out = translate_image(images, shift, interpolation="bilinear")
    reference = translate_image(images.double(), shift.double(), interpolation="bilinear")
    assert torch.equal(out, reference.round().clamp(0, 255).to(torch.uint8))


def test_nearest_rounds_half_to_even() -> None:
    images = _images(torch.float32, (3, 1, 5, 5))
    shift = torch.tensor([[0.5, 0.0], [1.5, 0.0], [-0.5, 2.5]])
    expected = translate_image(images, torch.tensor([[0, 0], [2, 0], [0, 2]]))
    assert torch.equal(translate_image(images, shift), expected)


def test_bilinear_gradcheck_image_and_shift() -> None:
    images = _images(torch.float64, (2, 2, 5, 6)).requires_grad_()
    shift = torch.tensor([[0.3, -1.6], [2.2, 0.45]], dtype=torch.float64, requires_grad=True)
    for mode in ("zeros", "reflect", "circular"):
        assert torch.autograd.gradcheck(
            lambda x, s, m=mode: translate_image(x, s, padding_mode=m, interpolation="bilinear"),
            (images, shift),
        )


def test_nearest_is_differentiable_wrt_image() -> None:
    images = _images(torch.float64, (2, 1, 4, 4)).requires_grad_()
    assert torch.autograd.gradcheck(lambda x: translate_image(x, [[1, -1], [0, 2]]), (images,))


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("mode", ["zeros", "constant", "reflect"])
def test_shared_kernel_checks(interpolation: str, mode: str, device: str) -> None:
    images = _images(torch.float32, (5, 3, 6, 7)).to(device)
    shift = torch.tensor(
        [[1, 2], [-3, 0], [0, 0], [7, -7], [2, 1]], dtype=torch.float32, device=device
    )
    if interpolation == "bilinear":
        shift = shift + 0.25
    fill = 0.5 if mode == "constant" else 0.0
    check_kernel(
        translate_image, images, shift, padding_mode=mode, fill=fill, interpolation=interpolation
    )


def test_broadcasting_rules() -> None:
    video = _images(torch.float32, (2, 3, 1, 5, 5))  # (B, T, C, H, W)
    shift = torch.tensor([[[1, 0]], [[0, 2]]])  # (B, 1, 2): frames share their clip's shift
    out = translate_image(video, shift)
    for b in range(2):
        for t in range(3):
            expected = translate_image(video[b, t], shift[b, 0])
            assert torch.equal(out[b, t], expected)
    one = _images(torch.float32, (1, 4, 4))
    many = translate_image(one, torch.tensor([[1, 0], [2, 0], [3, 0]]))  # one image, 3 shifts
    assert many.shape == (3, 1, 4, 4)
    assert torch.equal(many[2], translate_image(one, (3, 0)))


def test_channels_last_and_non_contiguous_input() -> None:
    images = _images(torch.float32, (3, 3, 8, 8))
    shift = torch.tensor([[1, 2], [-2, 1], [3, -3]])
    expected = translate_image(images, shift)
    assert torch.equal(
        translate_image(images.to(memory_format=torch.channels_last), shift), expected
    )
    assert torch.equal(
        translate_image(images.transpose(-1, -2), shift),
        translate_image(images.transpose(-1, -2).contiguous(), shift),
    )


@pytest.mark.parametrize("backend", ["eager", "aot_eager"])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_compiles_fullgraph(backend: str, interpolation: str) -> None:
    torch._dynamo.reset()
    images = _images(torch.float32, (4, 3, 8, 8))
    shift = torch.tensor([[1.0, 2.0], [-3.0, 0.0], [0.5, 1.5], [8.0, -2.0]])
    expected = translate_image(images, shift, interpolation=interpolation)
    compiled = torch.compile(
        lambda x, s: translate_image(x, s, interpolation=interpolation),
        fullgraph=True,
        backend=backend,
    )
    assert torch.equal(compiled(images, shift), expected)


@pytest.mark.cuda
@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_cuda_matches_cpu(mode: str, interpolation: str) -> None:
    images = _images(torch.float32, (16, 3, 20, 24))
    shift = (torch.rand(16, 2, generator=torch.Generator().manual_seed(5)) - 0.5) * 30
    fill = 0.5 if mode == "constant" else 0.0
    kwargs = dict(padding_mode=mode, fill=fill, interpolation=interpolation)
    cpu = translate_image(images, shift, **kwargs)
    gpu = translate_image(images.cuda(), shift.cuda(), **kwargs)
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-5, rtol=0)


# --- bad input -----------------------------------------------------------------------------


def test_rejects_non_tensor_image() -> None:
    with pytest.raises(TypeError, match="`image` must be a torch.Tensor, but got ndarray"):
        translate_image(np.zeros((1, 3, 4, 4)), (0, 0))


def test_rejects_low_rank_image() -> None:
    with pytest.raises(
        ValueError,
        match=r"`image` must have shape \(\.\.\., C, H, W\), but got a tensor of shape \(4, 4\)",
    ):
        translate_image(torch.zeros(4, 4), (0, 0))


def test_rejects_unsupported_dtype() -> None:
    with pytest.raises(TypeError, match="`image` must have dtype in .*but got torch.int32"):
        translate_image(torch.zeros(1, 1, 4, 4, dtype=torch.int32), (0, 0))


def test_rejects_empty_spatial_size() -> None:
    with pytest.raises(ValueError, match="`image` must have H, W >= 1"):
        translate_image(torch.zeros(1, 1, 0, 4), (0, 0))


@pytest.mark.parametrize(
    ("shift", "error", "message"),
    [
        ("right", TypeError, "`shift` must be a tensor or a sequence"),
        ((1, 2, 3), ValueError, r"`shift` must have shape \(\*batch, 2\).*got shape \(3,\)"),
        (
            torch.zeros(3, 2),
            ValueError,
            r"`shift` of shape \(3, 2\) does not broadcast against the image's batch shape \(2,\)",
        ),
        (torch.tensor([[float("nan"), 0.0], [0.0, 0.0]]), ValueError, "`shift` must be finite"),
        (torch.tensor([[float("inf"), 0.0], [0.0, 0.0]]), ValueError, "`shift` must be finite"),
        (torch.tensor([True, False]), TypeError, "`shift` must be a real-valued tensor"),
        ([[1, "a"], [0, 0]], TypeError, "`shift` must be a tensor or a.*holding 'a'"),
        # Each used to get another branch's message ("ragged", "integers within int64").
        (["a", 0], TypeError, r"`shift` must be a tensor or a \(nested\) sequence .*holding 'a'"),
        ([None, 1], TypeError, r"but got \[None, 1\] \(holding None\)"),
        ([True, 0], TypeError, r"\(holding True\)"),
        ([[1, 2], [3]], ValueError, r"but got the ragged \[\[1, 2\], \[3\]\]"),
        ([2**70, 0], ValueError, r"`shift` must hold integers within int64 \(\|v\| < 2\*\*63"),
        ([[0, -(2**64)], [0, 0]], ValueError, "`shift` must hold integers within int64"),
    ],
)
def test_rejects_bad_shift(shift: object, error: type[Exception], message: str) -> None:
    images = torch.zeros(2, 1, 4, 4)
    with pytest.raises(error, match=message):
        translate_image(images, shift)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"padding_mode": "wrap"}, ValueError, "`padding_mode` must be one of .*but got 'wrap'"),
        ({"padding_mode": 3}, TypeError, "`padding_mode` must be one of"),
        (
            {"interpolation": "bicubic"},
            ValueError,
            "`interpolation` must be one of .*but got 'bicubic'",
        ),
        (
            {"padding_mode": "zeros", "fill": 1.0},
            ValueError,
            "`fill` is only used with padding_mode='constant', but got fill=1.0 with "
            "padding_mode='zeros'",
        ),
        (
            {"padding_mode": "constant", "fill": (1, 2)},
            ValueError,
            "`fill` must have 1 or C=3 values, but got 2",
        ),
        (
            {"padding_mode": "constant", "fill": "red"},
            TypeError,
            "`fill` must be a number or a sequence of numbers",
        ),
        ({"padding_mode": "constant", "fill": float("nan")}, ValueError, "`fill` must be finite"),
        (
            {"padding_mode": "constant", "fill": torch.zeros(2, 2)},
            ValueError,
            "`fill` must be a number or a 1-D tensor",
        ),
    ],
)
def test_rejects_bad_options(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    images = torch.zeros(2, 3, 4, 4)
    before = images.clone()
    with pytest.raises(error, match=message):
        translate_image(images, [[1, 0], [0, 1]], **kwargs)
    assert torch.equal(images, before)


def test_rejects_fill_outside_uint8_range() -> None:
    images = torch.zeros(1, 1, 4, 4, dtype=torch.uint8)
    with pytest.raises(ValueError, match=r"`fill` must hold integers in \[0, 255\]"):
        translate_image(images, (1, 0), padding_mode="constant", fill=300)
    with pytest.raises(ValueError, match=r"`fill` must hold integers in \[0, 255\]"):
        translate_image(images, (1, 0), padding_mode="constant", fill=0.5)


def test_validation_can_be_switched_off() -> None:
    import shiftaug

    shiftaug.set_validate_args(False)
    try:
        assert not shiftaug.get_validate_args()
        translate_image(torch.zeros(1, 1, 2, 2), torch.tensor([0.0, 0.0]))
    finally:
        shiftaug.set_validate_args(True)
    with pytest.raises(TypeError, match="`value` must be a bool"):
        shiftaug.set_validate_args("no")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["zeros", "constant", "reflect"])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("batch", [1, 5])
def test_out_buffer_receives_the_result(mode: str, interpolation: str, batch: int) -> None:
    images = _images(torch.float32, (batch, 3, 7, 9))
    shift = torch.tensor([[2.0, -1.0], [-3.5, 0.25], [0.0, 0.0], [9.0, 2.0], [1.0, 1.0]])[:batch]
    fill = 0.5 if mode == "constant" else 0.0
    kwargs = dict(padding_mode=mode, fill=fill, interpolation=interpolation)
    expected = translate_image(images, shift, **kwargs)
    buffer = torch.full_like(images, float("nan"))
    result = translate_image(images, shift, out=buffer, **kwargs)
    assert result is buffer and torch.equal(buffer, expected)


def test_out_buffer_errors() -> None:
    images = torch.rand(2, 3, 4, 4)
    shift = [[1, 0], [0, 1]]
    with pytest.raises(TypeError, match="`out` must be a torch.Tensor or None, but got ndarray"):
        translate_image(images, shift, out=np.zeros((2, 3, 4, 4)))
    with pytest.raises(
        ValueError, match=r"`out` must have shape \(2, 3, 4, 4\), dtype torch.float32"
    ):
        translate_image(images, shift, out=torch.zeros(2, 3, 4, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="`out` must not be an expanded tensor"):
        translate_image(images, shift, out=torch.zeros(1, 3, 4, 4).expand(2, 3, 4, 4))
    with pytest.raises(ValueError, match="`out` must not share memory with `image`"):
        translate_image(images, shift, out=images)
    with pytest.raises(ValueError, match="`out` does not support automatic differentiation"):
        translate_image(images.requires_grad_(), shift, out=torch.zeros(2, 3, 4, 4))


def test_out_may_be_a_disjoint_slice_of_the_images_buffer() -> None:
    # Any shared storage used to be refused, even a disjoint half of one preallocated buffer.
    buffer = torch.rand(4, 3, 4, 5, generator=torch.Generator().manual_seed(0))
    images, expected_input = buffer[:2], buffer[:2].clone()
    shift = [[1, 0], [0, -2]]
    result = translate_image(images, shift, out=buffer[2:])
    assert result.data_ptr() == buffer[2:].data_ptr()
    assert torch.equal(buffer[2:], translate_image(expected_input, shift))
    assert torch.equal(buffer[:2], expected_input)  # the input half is untouched
    for overlapping in (buffer[1:3], buffer.view(-1)[10 : 10 + 120].view(2, 3, 4, 5)):
        with pytest.raises(ValueError, match="`out` must not share memory with `image`"):
            translate_image(images, shift, out=overlapping)
    interleaved = torch.rand(2, 3, 4, 10)
    with pytest.raises(ValueError, match="`out` must not share memory with `image`"):
        translate_image(interleaved[..., ::2], shift, out=interleaved[..., 1::2])  # conservative
