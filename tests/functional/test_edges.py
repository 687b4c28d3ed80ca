"""Edges of the translation kernels (issue 10 §3, issue 14): huge shifts, NaN payloads, fills
at the limits of a dtype, memory formats, zero-size inputs, the padding defaults."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch

from shiftaug.functional import PADDING_MODES, translate_image, translate_keypoints, translate_mask
from tests.checkers import all_dtypes, assert_same_bits
from tests.references import BITS, bits_reference, python_shift

FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
HUGE = [
    (2**63 - 1, -(2**63)),  # the int64 limits: `arange - shift` would overflow
    (-(2**63) + 1, 2**62 + 3),
    (2**40 + 7, -(2**35) - 1),
]
HUGE_FLOAT = [(2.0**63, -(2.0**63)), (1e30, -3e29), (2.0**53 + 2, 2.0**24 + 1), (4.5e15 + 0.5, 7.5)]


def _image(dtype: torch.dtype, shape: tuple[int, ...] = (3, 2, 5, 7)) -> torch.Tensor:
    values = torch.rand(shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return (values * 255).round().to(dtype) if dtype == torch.uint8 else (values * 4 - 2).to(dtype)


def _expected(image: torch.Tensor, shift: torch.Tensor, mode: str, fill: float = 0.0) -> list:
    return [
        bits_reference(image[n], *(python_shift(v) for v in shift[n].tolist()), mode, fill)
        for n in range(image.shape[0])
    ]


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("values", HUGE)
@pytest.mark.parametrize("batch", [1, 3])  # host slicing and the batched kernels
def test_int64_shifts_at_the_limits_are_exact(
    mode: str, values: tuple[int, int], batch: int
) -> None:
    image = _image(torch.float32)[:batch]
    shift = torch.tensor([values] * batch, dtype=torch.int64)
    fill = 0.5 if mode == "constant" else 0.0
    out = translate_image(image, shift, padding_mode=mode, fill=fill)
    for n, expected in enumerate(_expected(image, shift, mode, fill)):
        assert_same_bits(out[n], expected)


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("values", HUGE_FLOAT)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_float_shifts_beyond_int64_are_exact(
    mode: str, values: tuple[float, float], dtype: torch.dtype
) -> None:
    # Float shifts of 2**63 and more used to overflow the int64 conversion (a wrong roll).
    image = _image(torch.float64)
    shift = torch.tensor([values] * 3, dtype=dtype)
    out = translate_image(image, shift, padding_mode=mode)
    for n, expected in enumerate(_expected(image, shift, mode)):
        assert_same_bits(out[n], expected)
    if mode == "circular":
        dx, dy = (python_shift(v) for v in shift[0].tolist())
        rolled = torch.roll(image[0], (dy % 5, dx % 7), dims=(-2, -1))
        assert_same_bits(out[0], rolled)


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize(
    "values", [(2**24 + 1, -(2**24) - 3), (2**53 + 2, 5), (2**62 + 1, -(2**61) - 1)]
)
def test_bilinear_whole_shifts_of_any_size_equal_nearest(
    mode: str, values: tuple[int, int]
) -> None:
    # Above 2**24 a float32 copy of the shift is no longer the shift: the floor and the weights
    # are now taken in the shift's own dtype.
    image = _image(torch.float32)
    for shift in (torch.tensor([values] * 3), torch.tensor([values] * 3, dtype=torch.float64)):
        nearest = translate_image(image, shift, padding_mode=mode)
        bilinear = translate_image(image, shift, padding_mode=mode, interpolation="bilinear")
        assert torch.equal(bilinear, nearest)


def _nan_image(dtype: torch.dtype, batch: int) -> tuple[torch.Tensor, list[int]]:
    """An image full of NaNs with distinct payloads (signalling ones included), and -0.0."""
    image = _image(dtype, (batch, 2, 4, 5))
    bits = image.view(BITS[image.element_size()])
    width = 8 * image.element_size()
    mantissa = {torch.float16: 10, torch.bfloat16: 7, torch.float32: 23, torch.float64: 52}[dtype]
    exponent = ((1 << (width - mantissa - 1)) - 1) << mantissa
    payloads = [exponent | 1, exponent | 5, exponent | (1 << (mantissa - 1)) | 3]  # sNaN, qNaN
    flat = bits.view(-1)
    for index, pattern in enumerate(payloads):
        flat[7 * index + 1] = pattern
    flat[3] = -(1 << (width - 1))  # -0.0
    return image, payloads


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("batch", [1, 3])
def test_nearest_keeps_nan_payloads_bit_for_bit(dtype: torch.dtype, mode: str, batch: int) -> None:
    # float16/bfloat16 gathers used to quiet signalling NaNs (0x7c01 came back as 0x7e01).
    image, _ = _nan_image(dtype, batch)
    shift = torch.tensor([[1, -1], [-2, 3], [9, 0]])[:batch]
    fill = -0.0 if mode == "constant" else 0.0
    out = translate_image(image, shift, padding_mode=mode, fill=fill)
    for n, expected in enumerate(_expected(image, shift, mode, fill)):
        assert_same_bits(out[n], expected)
    assert_same_bits(translate_mask(image[:, 0], shift, padding_mode=mode, fill=fill), out[:, 0])


@pytest.mark.parametrize("dtype", FLOATS)
def test_autograd_path_keeps_values_and_nans(dtype: torch.dtype) -> None:
    # The documented exception: a recorded call copies through floating point (values equal,
    # NaNs stay NaN, a half-precision signalling NaN may come back quiet).
    image, _ = _nan_image(dtype, 3)
    shift = torch.tensor([[1, -1], [-2, 3], [9, 0]])
    plain = translate_image(image, shift, padding_mode="reflect")
    recorded = translate_image(image.clone().requires_grad_(), shift, padding_mode="reflect")
    assert torch.equal(recorded.isnan(), plain.isnan())
    assert torch.equal(recorded.detach().nan_to_num(), plain.nan_to_num())


@pytest.mark.parametrize("batch", [1, 3])
def test_negative_zero_fill_is_written_as_negative_zero(batch: int) -> None:
    # fill=-0.0 is "falsy": the zeros fast path used to write +0.0.
    out = translate_image(_image(torch.float32)[:batch], [1, 0], fill=-0.0)
    assert_same_bits(out[:, :, :, 0], torch.full_like(out[:, :, :, 0], -0.0))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("grad", [False, True])
def test_fill_outside_the_dtype_is_one_error_on_every_path(
    dtype: torch.dtype, interpolation: str, batch: int, grad: bool
) -> None:
    # It used to raise on the fast path and pad with inf on the autograd path.
    image = _image(dtype)[:batch].requires_grad_(grad)
    top = torch.finfo(dtype).max
    ok = translate_image(image, [1, 0], fill=top, interpolation=interpolation)
    assert ok[:, :, :, 0].float().eq(top).all()
    with pytest.raises(ValueError, match=rf"`fill` must be finite and within {dtype}'s range"):
        translate_image(image, [1, 0], fill=top * 1.01, interpolation=interpolation)


def test_int64_mask_fill_is_exact() -> None:
    # The fill used to travel as a Python float: 2**53 + 1 became 2**53.
    mask = torch.zeros(2, 3, 4, dtype=torch.int64)
    for value in (2**53 + 1, 2**63 - 1, -(2**63)):
        out = translate_mask(mask, [[1, 0], [0, 1]], fill=value)
        assert out[0, 0, 0].item() == value and out[1, 0, 0].item() == value
    with pytest.raises(ValueError, match=r"`fill` must hold integers in \[-9223372036854775808"):
        translate_mask(mask, [1, 0], fill=2**63)


def test_a_fill_alone_means_constant_padding_and_edge_means_replicate() -> None:
    image = _image(torch.uint8)
    shift = torch.tensor([[2, 0], [0, -1], [-3, 3]])
    assert torch.equal(
        translate_image(image, shift, fill=114),
        translate_image(image, shift, padding_mode="constant", fill=114),
    )
    assert torch.equal(translate_image(image, shift), translate_image(image, shift, fill=0))
    assert torch.equal(
        translate_image(image, shift, padding_mode="edge"),
        translate_image(image, shift, padding_mode="replicate"),
    )
    labels = image[:, 0]
    assert torch.equal(translate_mask(labels, shift, fill=255)[0, :, :2], torch.full((5, 2), 255))
    with pytest.raises(ValueError, match="`fill` is only used with padding_mode='constant'"):
        translate_image(image, shift, padding_mode="reflect", fill=114)


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("batch", [1, 4])
def test_channels_last_comes_back_channels_last(mode: str, interpolation: str, batch: int) -> None:
    image = _image(torch.float32, (batch, 3, 5, 6))
    shift = torch.tensor([[1.5, -2.0], [3.0, 0.25], [-1.0, 1.0], [0.0, 0.0]])[:batch]
    expected = translate_image(image, shift, padding_mode=mode, interpolation=interpolation)
    channels_last = image.contiguous(memory_format=torch.channels_last)
    out = translate_image(channels_last, shift, padding_mode=mode, interpolation=interpolation)
    assert out.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(out, expected)
    buffer = torch.empty_like(channels_last)
    result = translate_image(
        channels_last, shift, padding_mode=mode, interpolation=interpolation, out=buffer
    )
    assert result is buffer and torch.equal(buffer, expected)
    assert buffer.is_contiguous(memory_format=torch.channels_last)


def test_other_dense_layouts_are_kept_and_broadcasts_are_contiguous() -> None:
    hwc = _image(torch.uint8, (5, 6, 3)).permute(2, 0, 1)  # an HWC array seen as CHW
    out = translate_image(hwc, [1, 2])
    assert out.stride() == hwc.stride() and torch.equal(
        out, translate_image(hwc.contiguous(), [1, 2])
    )
    one = _image(torch.float32, (1, 3, 4, 4)).contiguous(memory_format=torch.channels_last)
    many = translate_image(one, torch.tensor([[1, 0], [0, 1]]))  # broadcast: a new batch
    assert many.shape == (2, 3, 4, 4) and many.is_contiguous()


def test_zero_channels_and_empty_batches() -> None:
    for shape in [(2, 0, 4, 4), (0, 3, 4, 4), (0, 4, 4), (2, 3, 0, 3, 3)]:
        image = torch.rand(shape)
        shift = torch.ones(*shape[:-3], 2)
        for interpolation in ("nearest", "bilinear"):
            out = translate_image(image, shift, interpolation=interpolation)
            assert out.shape == shape
        buffer = torch.empty(shape)
        assert translate_image(image, shift, out=buffer) is buffer  # no false "shares memory"
    with pytest.raises(ValueError, match=r"`shift` of shape \(3, 2\) does not broadcast"):
        translate_image(torch.rand(2, 0, 4, 4), torch.zeros(3, 2))


@pytest.mark.parametrize("fill", [0.0, -0.0, 2.5, (1.0, -2.0, 3.0)])
def test_compiles_fullgraph_with_fills_and_channels_last(fill: object) -> None:
    torch._dynamo.reset()
    image = _image(torch.float32, (4, 3, 6, 6)).contiguous(memory_format=torch.channels_last)
    shift = torch.tensor([[1, 2], [-3, 0], [0, 1], [8, -2]])
    expected = translate_image(image, shift, fill=fill)
    compiled = torch.compile(
        lambda x, s: translate_image(x, s, fill=fill), fullgraph=True, backend="eager"
    )
    assert_same_bits(compiled(image, shift), expected)


@pytest.mark.parametrize("dtype", all_dtypes())
def test_out_of_another_layout_receives_the_result(dtype: torch.dtype) -> None:
    image = _image(dtype, (3, 2, 5, 6))
    shift = torch.tensor([[1, 0], [0, -2], [4, 4]])
    expected = translate_image(image, shift)
    strided = torch.zeros(3, 2, 5, 12, dtype=dtype)[..., ::2]
    assert translate_image(image, shift, out=strided) is strided
    assert torch.equal(strided, expected)


def test_numpy_numbers_arrays_and_shifts_are_accepted() -> None:
    np = pytest.importorskip("numpy")
    image = _image(torch.float32)
    expected = translate_image(image, [[1, 0]] * 3, fill=(1.0, 2.0))
    for fill in (np.array([1.0, 2.0]), [np.float32(1.0), np.int64(2)], torch.tensor([1.0, 2.0])):
        assert torch.equal(translate_image(image, np.array([[1, 0]] * 3), fill=fill), expected)
    with pytest.raises(TypeError, match="`fill` must be a number or a sequence of numbers"):
        translate_image(image, [1, 0], fill=np.array(["a", "b"]))


def test_python_float_shifts_keep_their_precision() -> None:
    # Lists of Python floats used to become float32: 16777217.0 turned into 16777216 (a wrong
    # roll) and a float64 keypoint moved by 0.1 landed on 0.10000000149.
    row = torch.arange(5.0).view(1, 1, 1, 5)
    rolled = translate_image(row, [16777217.0, 0.0], padding_mode="circular")
    assert torch.equal(rolled, torch.roll(row, 16777217 % 5, -1))
    keypoints = torch.zeros(1, 2, dtype=torch.float64)
    moved, _ = translate_keypoints(keypoints, [0.1, 2.0**60 + 2.0**8], canvas_size=(4, 4))
    assert moved.tolist() == [[0.1, 2.0**60 + 2.0**8]]  # Python's float arithmetic
    fractional = translate_image(row, [Fraction(3, 2), 0], padding_mode="circular")
    assert torch.equal(fractional, torch.roll(row, 2, -1))  # 1.5 rounds half to even


def test_unsigned_shifts_are_exact_or_a_named_error() -> None:
    # A uint64 shift of 2**64 - 1 used to wrap to -1 in int64 and roll by the wrong amount.
    row = torch.arange(7.0).view(1, 1, 1, 7)
    for value, dtype in ((2**32 - 1, torch.uint32), (2**63 - 5, torch.uint64), (9, torch.uint16)):
        shift = torch.tensor([value, 0], dtype=dtype)
        out = translate_image(row, shift, padding_mode="circular")
        assert torch.equal(out, torch.roll(row, value % 7, -1)), dtype
    with pytest.raises(
        ValueError, match=r"`shift` must hold integers within int64 .* \[18446744073709551615\]"
    ):
        translate_image(row, torch.tensor([2**64 - 1, 0], dtype=torch.uint64))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("fill", [None, -0.0, 1.5, (1.0, 2.0)])
def test_channels_last_batches_are_shifted_in_place_of_layout_bit_for_bit(
    dtype: torch.dtype, fill: object
) -> None:
    # The channels-last fast path moves pixels as W * C runs; a per-channel fill takes the
    # planar route. Both must equal the reference bit for bit and keep the layout.
    image, _ = _nan_image(dtype, 3)
    channels_last = image.contiguous(memory_format=torch.channels_last)
    shift = torch.tensor([[1, -1], [-2, 3], [9, 0]])
    out = translate_image(channels_last, shift, fill=fill)  # type: ignore[arg-type]
    assert out.is_contiguous(memory_format=torch.channels_last)
    mode = "zeros" if fill is None else "constant"
    value = 0.0 if fill is None else fill
    for n, expected in enumerate(_expected(image, shift, mode, value)):  # type: ignore[arg-type]
        assert_same_bits(out[n], expected)
    buffer = torch.empty_like(channels_last)
    assert translate_image(channels_last, shift, fill=fill, out=buffer) is buffer  # type: ignore[arg-type]
    assert_same_bits(buffer, out)
