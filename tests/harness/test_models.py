"""Harness layers and models: APS against explicit polyphase slicing, exact circular invariance,
every preset builds and runs, spec errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from shiftaug.harness.layers import (
    CircularConv2d,
    PolyphaseDown,
    circular_pad,
    make_conv,
    make_pool,
)
from shiftaug.harness.models import CNN, MODEL_PRESETS, build_model, feature_layers, resolve_spec


def _polyphase_reference(x: torch.Tensor) -> torch.Tensor:
    """APS written out: the four stride-2 grids by slicing, the largest L2 norm wins."""
    parts = [x[..., i::2, j::2] for i in range(2) for j in range(2)]
    norms = torch.stack([p.double().pow(2).sum((1, 2, 3)) for p in parts], 1)
    return torch.stack([parts[k][n] for n, k in enumerate(norms.argmax(1).tolist())])


def test_polyphase_matches_slicing_reference() -> None:
    x = torch.randn(5, 3, 8, 6, generator=torch.Generator().manual_seed(0))
    assert torch.equal(PolyphaseDown()(x), _polyphase_reference(x))


def test_polyphase_picks_the_grid_that_moves_with_the_input() -> None:
    x = torch.randn(4, 2, 8, 8, generator=torch.Generator().manual_seed(1))
    down = PolyphaseDown()
    for shift in [(0, 1), (1, 0), (1, 1), (3, 5)]:
        rolled = down(torch.roll(x, shift, dims=(-2, -1)))
        base = down(x)
        # per sample, the grid chosen for the rolled input is the original one, rolled on the
        # coarse grid by floor(shift / 2) or ceil(shift / 2)
        for n in range(len(x)):
            assert any(
                torch.equal(rolled[n], torch.roll(base[n], (a, b), dims=(-2, -1)))
                for a in (shift[0] // 2, (shift[0] + 1) // 2)
                for b in (shift[1] // 2, (shift[1] + 1) // 2)
            )


def test_polyphase_gradient_flows_to_the_chosen_grid_only() -> None:
    x = torch.randn(2, 1, 4, 4, requires_grad=True)
    PolyphaseDown()(x).sum().backward()
    assert x.grad is not None and int(x.grad.sum()) == 2 * 4


def test_polyphase_rejects_odd_sizes_and_bad_stride() -> None:
    with pytest.raises(ValueError, match=r"`x` must have H and W divisible by the stride 2"):
        PolyphaseDown()(torch.rand(1, 1, 5, 4))
    with pytest.raises(ValueError, match=r"`stride` must be an int >= 1"):
        PolyphaseDown(0)


@pytest.mark.parametrize("pads", [(1, 1, 1, 1), (0, 1, 0, 1), (2, 0, 3, 1)])
def test_circular_pad_equals_torch_pad(pads: tuple[int, int, int, int]) -> None:
    x = torch.rand(2, 3, 5, 7)
    assert torch.equal(circular_pad(x, *pads), F.pad(x, pads, mode="circular"))


def test_circular_conv_equals_torch_circular_conv() -> None:
    ours = CircularConv2d(2, 3, 3)
    ref = torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular", bias=False)
    ref.weight.data.copy_(ours.weight.data)
    x = torch.rand(2, 2, 6, 6)
    torch.testing.assert_close(ours(x), ref(x))


def test_make_conv_paddings_and_errors() -> None:
    x = torch.rand(1, 1, 8, 8)
    assert make_conv(1, 2, 3, "zeros")(x).shape[-2:] == (8, 8)
    assert make_conv(1, 2, 3, "circular")(x).shape[-2:] == (8, 8)
    assert make_conv(1, 2, 4, "full")(x).shape[-2:] == (11, 11)
    with pytest.raises(ValueError, match=r"`kernel_size` must be odd with padding='zeros'"):
        make_conv(1, 2, 4, "zeros")
    with pytest.raises(ValueError, match=r"`padding` must be one of"):
        make_conv(1, 2, 3, "reflect")
    with pytest.raises(ValueError, match=r"`kernel_size` must be an int >= 1"):
        make_conv(1, 2, 0, "zeros")


def test_make_pool_kinds() -> None:
    x = torch.rand(2, 3, 8, 8)
    for kind in ("max", "avg", "blur", "blur_avg", "aps"):
        assert make_pool(kind)(x).shape == (2, 3, 4, 4)
    with pytest.raises(ValueError, match=r"`pool` must be one of"):
        make_pool("median")


def test_aps_cnn_is_exactly_circular_shift_invariant_untrained() -> None:
    torch.manual_seed(0)
    net = CNN(1, 10, (32, 32), pool="aps", padding="circular").eval()
    x = torch.rand(16, 1, 32, 32)
    with torch.no_grad():
        base = net(x)
        for shift in [(1, 0), (0, 1), (5, -3), (16, 17)]:
            out = net(torch.roll(x, shift, dims=(-2, -1)))
            assert torch.equal(out.argmax(1), base.argmax(1))
            torch.testing.assert_close(out, base, rtol=1e-4, atol=1e-5)


def test_max_pool_cnn_is_not_exactly_invariant() -> None:
    """The same network with plain max pooling changes its logits under a 1-pixel roll."""
    torch.manual_seed(0)
    net = CNN(1, 10, (32, 32), pool="max", padding="circular").eval()
    x = torch.rand(16, 1, 32, 32)
    with torch.no_grad():
        diff = (net(torch.roll(x, 1, dims=-1)) - net(x)).abs().max()
    assert diff > 1e-4


@pytest.mark.parametrize("name", sorted(MODEL_PRESETS))
def test_every_preset_builds_and_classifies(name: str) -> None:
    size = (32, 32)
    net = build_model(name, in_channels=3, num_classes=7, image_size=size).eval()
    with torch.no_grad():
        assert net(torch.rand(2, 3, *size)).shape == (2, 7)
    assert feature_layers(net)


def test_flatten_head_follows_the_padding() -> None:
    net = CNN(1, 4, (16, 16), padding="full", head="flatten", widths=(2, 3))
    assert net(torch.rand(2, 1, 16, 16)).shape == (2, 4)


def test_timm_model_by_name_is_never_pretrained() -> None:
    net = build_model("timm:resnet10t", in_channels=1, num_classes=5, image_size=(32, 32))
    assert net(torch.rand(2, 1, 32, 32)).shape == (2, 5)


def test_spec_overrides_and_custom_presets() -> None:
    spec = resolve_spec({"base": "cnn_aps", "widths": [4, 8]})
    assert spec == {"kind": "cnn", "padding": "circular", "pool": "aps", "widths": [4, 8]}
    presets = {"mine": {"base": "cnn", "kernel_size": 5}}
    assert resolve_spec("mine", presets)["kernel_size"] == 5
    net = build_model("mine", in_channels=1, num_classes=3, image_size=(16, 16), presets=presets)
    assert net.features[0][0][0].kernel_size == (5, 5)


def test_spec_errors() -> None:
    with pytest.raises(
        ValueError,
        match=r"`model` must be one of .*'timm:<name>' or 'package.module:factory', but got 'nope'",
    ):
        resolve_spec("nope")
    with pytest.raises(TypeError, match=r"`model` must be a name or a dict"):
        resolve_spec(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"`kind` must be one of"):
        resolve_spec({"kind": "mlp"})
    with pytest.raises(ValueError, match=r"`head` must be one of"):
        CNN(1, 2, (8, 8), head="attention")
    with pytest.raises(ValueError, match=r"`widths` must be a non-empty list"):
        CNN(1, 2, (8, 8), widths=())
    with pytest.raises(ValueError, match=r"`depth` must be an int >= 1"):
        CNN(1, 2, (8, 8), depth=0)
    with pytest.raises(ValueError, match=r"`padding` must be 'zeros' or 'circular' with residual"):
        CNN(1, 2, (8, 8), residual=True, padding="full")
    with pytest.raises(ValueError, match=r"`name` must be a timm model name"):
        build_model({"kind": "timm"}, in_channels=1, num_classes=2, image_size=(8, 8))


def test_vit_without_positions_is_invariant_to_whole_patch_rolls() -> None:
    """No position embedding + mean pooling: rolling by whole patches only permutes tokens."""
    torch.manual_seed(0)
    spec = {"base": "vit", "pos_embed": "none", "class_token": False, "global_pool": "avg"}
    net = build_model(spec, in_channels=1, num_classes=10, image_size=(32, 32)).eval()
    x = torch.rand(4, 1, 32, 32)
    with torch.no_grad():
        base = net(x)
        torch.testing.assert_close(net(torch.roll(x, (8, -16), dims=(-2, -1))), base)
        assert (net(torch.roll(x, 1, dims=-1)) - base).abs().max() > 1e-4  # not sub-patch
