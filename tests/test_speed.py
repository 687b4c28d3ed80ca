"""The DrQ-v2 baseline and the demo's in-process speed headline (``shiftaug._speed``)."""

from __future__ import annotations

import itertools

import pytest
import torch

from shiftaug._speed import Headline, drq_random_shift, drq_shift, median_ms, speed_headline
from tests.references import shift_reference


def test_drq_shift_is_a_replicate_padded_crop() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(6, 2, 9, 13, generator=g)
    pad = 3
    offset = torch.randint(0, 2 * pad + 1, (6, 2), generator=g)
    out = drq_shift(x, offset, pad)
    for image, got, (ox, oy) in zip(x, out, offset.tolist(), strict=True):
        expected = shift_reference(image, pad - ox, pad - oy, "replicate")
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)


def test_drq_random_shift_draws_per_sample_shifts_within_the_pad() -> None:
    x = torch.rand(12, 1, 8, 8)
    pad = 2
    out = drq_random_shift(x, pad, generator=torch.Generator().manual_seed(1))
    seen = set()
    candidates = list(itertools.product(range(-pad, pad + 1), repeat=2))
    for image, got in zip(x, out, strict=True):
        matches = [
            (dx, dy)
            for dx, dy in candidates
            if torch.allclose(got, shift_reference(image, dx, dy, "replicate"), atol=1e-5)
        ]
        assert matches, "output is not a replicate-padded shift within the pad"
        seen.add(matches[0])
    assert len(seen) > 1  # shifts differ between samples


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"pad": -1}, ValueError, r"`pad` must be an int >= 0, but got -1"),
        ({"pad": 1.5}, ValueError, r"`pad` must be an int >= 0, but got 1.5"),
        ({"offset": torch.zeros(3, 2)}, ValueError, r"`offset` must have shape \(2, 2\)"),
        ({"x": torch.zeros(2, 4, 4)}, ValueError, r"`x` must have shape \(N, C, H, W\)"),
        ({"x": [[0.0]]}, TypeError, r"`x` must be a torch.Tensor"),
        (
            {"x": torch.zeros(2, 1, 4, 4, dtype=torch.uint8)},
            TypeError,
            r"`x` must have dtype in \(float16, bfloat16, float32, float64\), but got torch.uint8",
        ),
    ],
)
def test_drq_shift_rejects_bad_input(kwargs: dict, error: type, match: str) -> None:
    args = {"x": torch.zeros(2, 1, 4, 4), "offset": torch.zeros(2, 2), "pad": 1} | kwargs
    with pytest.raises(error, match=match):
        drq_shift(**args)


def test_median_ms_times_every_callable_in_rounds() -> None:
    calls = {"a": 0, "b": 0}

    def count(name: str) -> None:
        calls[name] += 1

    ms = median_ms(
        {"a": lambda: count("a"), "b": lambda: count("b")},
        device=torch.device("cpu"), budget_s=0.0, warmup=1,
    )  # fmt: skip
    assert set(ms) == {"a", "b"} and all(v >= 0 for v in ms.values())
    assert calls == {"a": 4, "b": 4}  # one warm-up call, then the minimum of three rounds


def test_speed_headline_reports_all_three_and_their_ratio() -> None:
    headline = speed_headline((8, 3, 16, 16), budget_s=0.0)
    assert min(headline.shiftaug_ms, headline.drq_ms, headline.kornia_ms) > 0
    text = "\n".join(headline.lines())
    assert "8x3x16x16" in text and "DrQ-v2" in text and "kornia" in text
    fixed = Headline((1, 1, 1, 1), shiftaug_ms=1.0, drq_ms=3.0, kornia_ms=5.0, load=0.0)
    assert "3.0x the speed" in fixed.lines()[-1]
    busy = Headline((1, 1, 1, 1), 1.0, 3.0, 5.0, threads=2, load=1000.0)
    assert "the machine is busy: load average 1000.0" in busy.lines()[-1]
