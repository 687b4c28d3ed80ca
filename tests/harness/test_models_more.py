"""The claims' models against independent references: G-CNN rotation invariance, locally
connected layers against convolution, BlurPool against NumPy, the rebuilt full convolution,
the STN's sampler against an integer shift, receptive fields against gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from shiftaug.functional import translate_image
from shiftaug.harness.layers import BlurDown, make_pool
from shiftaug.harness.models import (
    CNN,
    GCNN,
    LCN,
    STN,
    build_model,
    feature_layers,
    receptive_field,
    resolve_spec,
)
from shiftaug.harness.models.cnn import full_padding_margin
from shiftaug.harness.models.lcn import LocallyConnected2d


def test_gcnn_default_logits_are_invariant_to_90_degree_rotations_at_40px() -> None:
    torch.manual_seed(0)
    net = build_model("gcnn_p4", in_channels=1, num_classes=10, image_size=(40, 40)).double()
    net.train()
    net(torch.rand(16, 1, 40, 40, dtype=torch.float64))  # non-trivial batch-norm statistics
    net.eval()
    x = torch.rand(4, 1, 40, 40, dtype=torch.float64)
    base = net(x)
    assert base.std() > 1e-3  # the logits do depend on the input
    for k in (1, 2, 3):
        assert (net(torch.rot90(x, k, dims=(-2, -1))) - base).abs().max() <= 1e-6


def test_gcnn_group_conv_is_equivariant_and_plain_cnn_is_not_invariant() -> None:
    torch.manual_seed(1)
    net = GCNN(1, 10, (16, 16), widths=(4, 8)).double().eval()
    x = torch.rand(2, 1, 16, 16, dtype=torch.float64)
    lifted = net.features[0].conv(x)
    rotated = net.features[0].conv(torch.rot90(x, 1, dims=(-2, -1)))
    # rotating the input rotates each map and rolls the orientation axis by one
    expected = torch.roll(torch.rot90(lifted, 1, dims=(-2, -1)), 1, dims=2)
    torch.testing.assert_close(rotated, expected)
    cnn = CNN(1, 10, (16, 16)).double().eval()
    assert (cnn(torch.rot90(x, 1, dims=(-2, -1))) - cnn(x)).abs().max() > 1e-4
    with pytest.raises(ValueError, match=r"`image_size` must be divisible by 8"):
        GCNN(1, 10, (20, 20))
    with pytest.raises(ValueError, match=r"`kernel_size` must be an odd int"):
        GCNN(1, 10, (16, 16), kernel_size=4)


def test_locally_connected_with_tied_weights_equals_conv2d() -> None:
    torch.manual_seed(2)
    layer = LocallyConnected2d(3, 4, 3, (6, 5), bias=False)
    conv = torch.randn(4, 3, 3, 3)
    with torch.no_grad():  # every position gets the same filter
        layer.weight.copy_(conv.reshape(4, 27).T.expand(30, 27, 4))
    x = torch.rand(2, 3, 6, 5)
    torch.testing.assert_close(layer(x), F.conv2d(x, conv, padding=1))


def test_locally_connected_layer_is_position_specific_and_checks_sizes() -> None:
    torch.manual_seed(3)
    net = LCN(1, 10, (16, 16), widths=(4, 8)).eval()
    x = torch.zeros(1, 1, 16, 16)
    x[..., 4:8, 4:8] = 1
    y = net.features[0](x)
    y_shift = net.features[0](torch.roll(x, 2, dims=-1))
    assert (torch.roll(y, 1, dims=-1) - y_shift).abs().max() > 1e-3  # not equivariant
    with pytest.raises(ValueError, match=r"`x` must have spatial size \(16, 16\)"):
        net.features[0][0][0](torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match=r"`padding` must be 'zeros' for a locally connected"):
        LCN(1, 10, (16, 16), padding="circular")
    with pytest.raises(ValueError, match=r"`kernel_size` must be an odd int"):
        LocallyConnected2d(1, 1, 2, (4, 4))


def _blur_reference(x: np.ndarray, size: int) -> np.ndarray:
    row = np.array([1.0, 2.0, 1.0]) if size == 3 else np.array([1.0, 4.0, 6.0, 4.0, 1.0])
    k = np.outer(row, row) / np.outer(row, row).sum()
    p = (size - 1) // 2
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="reflect")
    h, w = x.shape[-2:]
    out = np.zeros((*x.shape[:2], (h + 1) // 2, (w + 1) // 2))
    for i in range(0, h, 2):
        for j in range(0, w, 2):
            out[..., i // 2, j // 2] = (padded[..., i : i + size, j : j + size] * k).sum((-2, -1))
    return out


@pytest.mark.parametrize("size", [3, 5])
@pytest.mark.parametrize("side", [8, 9])
def test_blurdown_equals_a_numpy_reflect_padded_binomial_filter(size: int, side: int) -> None:
    x = torch.rand(2, 3, side, side, dtype=torch.float64)
    ref = _blur_reference(x.numpy(), size)
    np.testing.assert_allclose(BlurDown(size)(x).numpy(), ref, rtol=1e-12)
    with pytest.raises(ValueError, match=r"`size` must be 3 or 5, but got 4"):
        BlurDown(4)


def test_maxblurpool_is_max_at_stride_one_then_blurdown() -> None:
    x = torch.rand(1, 2, 10, 10)
    ref = BlurDown(5)(F.max_pool2d(x, 2, stride=1))
    torch.testing.assert_close(make_pool("blur5")(x), ref)


def test_cnn_full_is_built_as_kayhan_and_van_gemert() -> None:
    net = build_model("cnn_full", in_channels=3, num_classes=2, image_size=(32, 32))
    assert isinstance(net, CNN)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    assert all(m.bias is None for m in net.modules() if isinstance(m, nn.Conv2d))
    sizes = []
    hooks = [
        m.register_forward_pre_hook(lambda m, a: sizes.append(a[0].shape[-1]))
        for m in net.modules()
        if isinstance(m, nn.MaxPool2d)
    ]
    net(torch.rand(1, 3, 32, 32))
    for h in hooks:
        h.remove()
    assert sizes and all(s % 2 == 0 for s in sizes)  # no pooling drops a row or column
    assert full_padding_margin(32, 3, 1, 3) == 1 and full_padding_margin(40, 3, 1, 3) == 1


def test_stn_translation_moves_content_by_the_predicted_shift() -> None:
    stn = STN(1, (16, 16), nn.Identity())
    with torch.no_grad():  # force theta's translation to t = (0.25, -0.5): 2 px left, 4 px down
        stn.regress.bias.copy_(torch.tensor([0.25, -0.5]))
    x = torch.rand(2, 1, 16, 16)
    out = stn(x)
    shift = stn.predicted_shift(x)
    torch.testing.assert_close(shift, torch.tensor([[2.0, -4.0]] * 2))
    ref = translate_image(x, -shift.round().long())
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match=r"`transform` must be one of"):
        STN(1, (16, 16), nn.Identity(), transform="projective")


def test_receptive_field_matches_the_gradient_support() -> None:
    # average pooling spreads the gradient over its whole window (max pooling picks one pixel)
    specs = ["cnn_avg", {"base": "cnn_avg", "kernel_size": 5}, {"base": "cnn", "pool": "blur_avg"}]
    for spec in specs:
        net = build_model(spec, in_channels=1, num_classes=2, image_size=(96, 96)).eval()
        for m in net.modules():  # positive weights: no gradient cancels inside the field
            if isinstance(m, nn.Conv2d):
                nn.init.constant_(m.weight, 0.1)
        x = torch.rand(1, 1, 96, 96, requires_grad=True)
        feat = net.features(x)
        feat[0, 0, feat.shape[-2] // 2, feat.shape[-1] // 2].backward()
        cols = (x.grad[0, 0].abs().sum(0) > 0).nonzero()
        assert int(cols.max() - cols.min() + 1) == receptive_field(net), spec


def test_model_factories_and_feature_layers_end_with_the_logits() -> None:
    spec = resolve_spec("torch.nn:Identity")
    assert spec == {"kind": "module", "factory": "torch.nn:Identity"}
    net = build_model(
        {"kind": "module", "factory": "torch.nn:Flatten"},
        in_channels=1,
        num_classes=2,
        image_size=(4, 4),
    )
    assert isinstance(net, nn.Flatten)
    with pytest.raises(ValueError, match=r"`factory` must name a callable"):
        build_model("torch.nn:nothing_here", in_channels=1, num_classes=2, image_size=(4, 4))
    with pytest.raises(ValueError, match=r"`factory` must be 'package.module:callable'"):
        build_model(
            {"kind": "module", "factory": 3}, in_channels=1, num_classes=2, image_size=(4, 4)
        )
    for name in ("cnn", "lcn", "stn", "gcnn_p4", "vit"):
        model = build_model(name, in_channels=1, num_classes=3, image_size=(32, 32))
        layers = feature_layers(model)
        assert layers[-1] == ("logits", model) and len(layers) >= 3
