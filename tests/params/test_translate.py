"""Range grammar and sample_translate."""

from __future__ import annotations

import pytest
import torch

from shiftaug.params import AxisRange, TranslateParams, parse_shift_range, sample_translate


@pytest.mark.parametrize(
    ("value", "x", "y"),
    [
        (4, (-4, 4), (-4, 4)),
        (0.5, (-0.5, 0.5), (-0.5, 0.5)),
        ((4, 2), (-4, 4), (-2, 2)),
        (((0, 8), 2), (0, 8), (-2, 2)),
        ([(-3, -1), (1, 5)], (-3, -1), (1, 5)),
        ((0, 0), (0, 0), (0, 0)),
    ],
)
def test_range_grammar(value: object, x: tuple[float, float], y: tuple[float, float]) -> None:
    parsed = parse_shift_range("shift_px", value, "px")
    assert parsed.x == AxisRange(*map(float, x)) and parsed.y == AxisRange(*map(float, y))


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (
            -1,
            ValueError,
            r"`shift_px` must be a finite number >= 0 \(a symmetric range \[-a, a\]\), but got -1",
        ),
        (
            ((5, 1), 0),
            ValueError,
            r"`shift_px\[0\]` must be an interval \(low, high\) with low <= high, but got \(5, 1\)",
        ),
        ((1, 2, 3), TypeError, "`shift_px` must be a number a >= 0"),
        ("4", TypeError, "`shift_px` must be a number a >= 0"),
        (True, TypeError, "`shift_px` must be a number a >= 0"),
        (float("inf"), ValueError, "`shift_px` must be a finite number"),
        (((0, float("nan")), 1), ValueError, r"`shift_px\[0\]` must be a finite interval"),
        (((0, 1, 2), 1), TypeError, r"`shift_px\[0\]` must be a number"),
    ],
)
def test_range_errors(value: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        parse_shift_range("shift_px", value, "px")


def test_uniform_integers_cover_both_ends() -> None:
    g = torch.Generator().manual_seed(0)
    params = sample_translate(4000, (32, 32), shift_px=((-2, 3), 1), generator=g)
    assert params.shift.dtype == torch.float32 and params.shift.shape == (4000, 2)
    assert set(params.shift[:, 0].tolist()) == {-2.0, -1.0, 0.0, 1.0, 2.0, 3.0}
    assert set(params.shift[:, 1].tolist()) == {-1.0, 0.0, 1.0}
    counts = torch.bincount(params.shift[:, 0].long() + 2)
    assert counts.min() > 4000 / 6 * 0.8  # roughly uniform, not edge-starved


def test_fractional_range_converts_with_image_size() -> None:
    params = sample_translate(
        2000, (20, 40), shift_frac=(0.1, 0.25), generator=torch.Generator().manual_seed(1)
    )
    assert params.shift[:, 0].abs().max() == 4 and params.shift[:, 1].abs().max() == 5


def test_continuous_and_normal_draws_stay_in_range() -> None:
    g = torch.Generator().manual_seed(2)
    cont = sample_translate(1000, (8, 8), shift_px=((0.5, 1.5), 2), integer=False, generator=g)
    assert cont.shift[:, 0].min() >= 0.5 and cont.shift[:, 0].max() <= 1.5
    assert cont.shift[:, 0].frac().abs().sum() > 0
    normal = sample_translate(5000, (8, 8), shift_px=4, distribution="normal", generator=g)
    assert normal.shift.abs().max() <= 4
    std = normal.shift.std().item()
    assert 0.9 < std < 2.3  # sigma = 0.5 * half-width = 2, a little less after clipping


def test_p_and_same_on_batch() -> None:
    g = torch.Generator().manual_seed(3)
    params = sample_translate(2000, (16, 16), shift_px=(3, 3), p=0.3, generator=g)
    assert 0.2 < params.applied.float().mean().item() < 0.4
    assert torch.equal(
        params.shift[~params.applied], torch.zeros_like(params.shift[~params.applied])
    )
    same = sample_translate(7, (16, 16), shift_px=3, same_on_batch=True, generator=g)
    assert torch.equal(same.shift, same.shift[:1].expand(7, 2))
    none = sample_translate(50, (16, 16), shift_px=3, p=0.0, generator=g)
    assert not none.applied.any() and not none.shift.any()


def test_seeded_draws_reproduce() -> None:
    a = sample_translate(16, (32, 32), shift_px=4, generator=torch.Generator().manual_seed(7))
    b = sample_translate(16, (32, 32), shift_px=4, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a.shift, b.shift) and torch.equal(a.applied, b.applied)


def test_params_record_helpers() -> None:
    params = sample_translate(5, (8, 8), shift_px=2, generator=torch.Generator().manual_seed(8))
    assert isinstance(params, TranslateParams) and len(params) == 5
    assert torch.equal(params.inverse().shift, -params.shift)
    assert torch.equal(params.select(2).shift, params.shift[2:3])
    assert torch.equal(params.select(-1).shift, params.shift[-1:])
    assert torch.equal(params.select(torch.tensor([0, 4])).shift, params.shift[[0, 4]])
    assert params.to("cpu").shift.device.type == "cpu"
    with pytest.raises(AttributeError):
        params.shift = params.shift  # type: ignore[misc]  # frozen


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, ValueError, "A shift range is required"),
        ({"shift_px": 2, "shift_frac": 0.1}, ValueError, "Give the shift range in one unit"),
        ({"shift_frac": 1.5}, ValueError, r"`shift_frac` must lie in \[-1, 1\]"),
        ({"shift_px": 2, "distribution": "laplace"}, ValueError, "`distribution` must be one of"),
        ({"shift_px": 2, "p": 1.5}, ValueError, r"`p` must be a float in \[0, 1\], but got 1.5"),
        ({"shift_px": 2, "p": "high"}, TypeError, r"`p` must be a float in \[0, 1\]"),
        (
            {"shift_px": 2, "normal_scale": 0},
            ValueError,
            "`normal_scale` must be a finite number > 0, but got 0",
        ),
        (
            {"shift_px": ((0.2, 0.3), 0)},
            ValueError,
            r"`shift_px` must hold a whole pixel on each axis for whole-pixel shifts "
            r"\(interpolation='nearest'\), but its x range is \[0.2, 0.3\] px for an image of "
            r"size \(8, 8\)",
        ),
        (
            {"shift_frac": (0.1, (0.01, 0.1))},
            ValueError,
            r"`shift_frac` must hold a whole pixel .* its y range is \[0.08, 0.8\] px",
        ),
    ],
)
def test_sampler_errors(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        sample_translate(4, (8, 8), **kwargs)  # type: ignore[arg-type]


def test_batch_size_must_be_non_negative_int() -> None:
    with pytest.raises(ValueError, match="`batch_size` must be an int >= 0, but got -1"):
        sample_translate(-1, (8, 8), shift_px=1)
    assert len(sample_translate(0, (8, 8), shift_px=1)) == 0


@pytest.mark.cuda
def test_draws_on_the_images_device() -> None:
    params = sample_translate(4, (8, 8), shift_px=2, device="cuda")
    assert params.shift.device.type == "cuda"
    g = torch.Generator(device="cuda").manual_seed(0)
    assert sample_translate(4, (8, 8), shift_px=2, generator=g, device="cuda").shift.is_cuda


def test_draws_compile_with_a_dynamic_batch_and_changing_ranges() -> None:
    """Under ``torch.compile(fullgraph=True)`` the batch size turns dynamic after a recompile
    and so do the range's float bounds: the draws must still trace and equal eager draws from
    the same global seed (torch 2.14 fails a random factory given ``generator=None`` with a
    dynamic size, and symbolic bounds cannot be range-checked)."""
    from shiftaug import RandomTranslate

    torch._dynamo.reset()
    compiled = torch.compile(lambda t, x: t.make_params(x).shift, fullgraph=True, backend="eager")
    configs: list[dict[str, object]] = [
        {"shift_px": 2},
        {"shift_px": 2.4},
        {"shift_frac": 0.3, "interpolation": "bilinear"},
        {"shift_px": (3.3, 1), "distribution": "normal"},
        {"shift_frac": ((0, 0.25), 0.1), "p": 0.5},
    ]
    for index, kwargs in enumerate(configs):
        transform = RandomTranslate(**kwargs)  # type: ignore[arg-type]
        images = torch.zeros(3 + index, 1, 10, 12)
        torch.manual_seed(index)
        drawn = compiled(transform, images)
        torch.manual_seed(index)
        assert torch.equal(drawn, transform.make_params(images).shift), kwargs
