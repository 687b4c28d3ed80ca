"""Models the harness trains, one family per file, and the registry that names them.

- :mod:`.cnn`: :class:`CNN` (VGG/ResNet-style, switchable kernel, padding, norm, pooling, head)
- :mod:`.lcn`: :class:`LCN`, the same network without weight sharing
- :mod:`.stn`: :class:`STN`, a spatial transformer in front of any of these
- :mod:`.gcnn`: :class:`GCNN`, a p4 group-equivariant CNN
- :mod:`.vit`: small timm vision transformers; any timm model as ``"timm:<name>"``

A model is named by a *spec*: a preset name from :data:`MODEL_PRESETS`, ``"timm:<name>"``,
``"package.module:factory"`` (your own code), or a dict ``{"base": <preset>, **overrides}`` /
``{"kind": <kind>, **options}``. :func:`build_model` turns a spec into an ``nn.Module`` mapping
``(N, C, H, W)`` images to ``(N, classes)`` logits.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ..._checks import check_choice, describe
from .cnn import CNN
from .gcnn import GCNN
from .lcn import LCN
from .stn import STN
from .vit import build_vit

__all__ = [
    "CNN",
    "GCNN",
    "KINDS",
    "LCN",
    "MODEL_PRESETS",
    "STN",
    "build_model",
    "feature_layers",
    "receptive_field",
    "resolve_spec",
]

KINDS = ("cnn", "lcn", "stn", "gcnn", "vit", "timm", "module")

_RESNET18 = {"kind": "cnn", "widths": (64, 128, 256, 512), "depth": 2, "residual": True}

MODEL_PRESETS: dict[str, dict[str, Any]] = {
    # Small VGG-style CNNs (3 stages, 16-32-64 channels): one switch changed at a time.
    "cnn": {"kind": "cnn"},
    "cnn_flat": {"kind": "cnn", "head": "flatten"},  # LeNet/VGG-style fully connected head
    "cnn_avg": {"kind": "cnn", "pool": "avg"},
    "cnn_blur": {"kind": "cnn", "pool": "blur"},  # Zhang 2019 MaxBlurPool, filter size 3
    "cnn_blur5": {"kind": "cnn", "pool": "blur5"},  # ... filter size 5
    "cnn_circular": {"kind": "cnn", "padding": "circular"},
    # Kayhan & van Gemert 2020: full convolution, no batch norm, no bias, exact pooling.
    "cnn_full": {"kind": "cnn", "padding": "full", "norm": "none", "bias": False},
    "cnn_aps": {"kind": "cnn", "padding": "circular", "pool": "aps"},
    "cnn_k5": {"kind": "cnn", "kernel_size": 5},
    "cnn_k7": {"kind": "cnn", "kernel_size": 7},
    "cnn_k9": {"kind": "cnn", "kernel_size": 9},
    # The same networks without weight sharing.
    "lcn": {"kind": "lcn"},
    "lcn_flat": {"kind": "lcn", "head": "flatten"},
    # Spatial transformers in front of the flatten-head CNN (where undoing a shift pays).
    "stn": {"kind": "stn", "transform": "translation", "classifier": "cnn_flat"},
    "stn_affine": {"kind": "stn", "transform": "affine", "classifier": "cnn_flat"},
    # p4 group-equivariant CNN (8-16-32 channels per orientation).
    "gcnn_p4": {"kind": "gcnn"},
    # ResNet-18-style: 4 stages x 2 basic blocks, 64-512 channels (for GPUs).
    "resnet18": dict(_RESNET18),
    "resnet18_blur": {**_RESNET18, "pool": "blur"},
    "resnet18_aps": {**_RESNET18, "pool": "aps", "padding": "circular"},
    # Small ViTs (timm VisionTransformer): 8 px patches, class token + learned positions...
    "vit": {"kind": "vit"},
    "vit_gap": {"kind": "vit", "global_pool": "avg", "class_token": False},  # mean pooling
    "vit_nopos": {"kind": "vit", "pos_embed": "none"},  # no position embedding
    "vit_p4": {"kind": "vit", "patch_size": 4},  # 4 px patches
}


def resolve_spec(
    spec: str | Mapping[str, Any], presets: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Expand a model spec into a full option dict with a ``kind``.

    Args:
        spec: a preset name, ``"timm:<name>"``, ``"package.module:factory"``, or a dict with
            ``base`` (a preset to override) or ``kind``.
        presets: extra named specs (e.g. from a config's ``model_defs``), searched first.

    Returns:
        A new dict with ``kind`` and the model's options.

    Example:
        >>> from shiftaug.harness.models import resolve_spec
        >>> resolve_spec({"base": "cnn_aps", "widths": [8, 16]})["pool"]
        'aps'
        >>> resolve_spec("mypackage.nets:make_net")
        {'kind': 'module', 'factory': 'mypackage.nets:make_net'}
    """
    table = {**MODEL_PRESETS, **(presets or {})}
    if isinstance(spec, str):
        if spec.startswith("timm:"):
            return {"kind": "timm", "name": spec[5:]}
        if spec not in table and ":" in spec:
            return {"kind": "module", "factory": spec}
        if spec not in table:
            raise ValueError(
                f"`model` must be one of {sorted(table)}, 'timm:<name>' or "
                f"'package.module:factory', but got {spec!r}."
            )
        spec = table[spec]
    if not isinstance(spec, Mapping):
        raise TypeError(f"`model` must be a name or a dict, but got {describe(spec)}.")
    options = dict(spec)
    if "base" in options:
        base = options.pop("base")
        options = {**resolve_spec(base, presets), **options}
    check_choice("kind", options.get("kind"), KINDS)
    return options


def _factory(path: Any) -> Any:
    if not isinstance(path, str) or path.count(":") != 1:
        raise ValueError(f"`factory` must be 'package.module:callable', but got {describe(path)}.")
    module, name = path.split(":")
    target = getattr(importlib.import_module(module), name, None)
    if not callable(target):
        raise ValueError(f"`factory` must name a callable, but {module} has no callable {name!r}.")
    return target


def build_model(
    spec: str | Mapping[str, Any],
    *,
    in_channels: int,
    num_classes: int,
    image_size: tuple[int, int],
    presets: Mapping[str, Any] | None = None,
) -> nn.Module:
    """Build the model a spec names (see :func:`resolve_spec`).

    ``"module"`` specs call ``factory(**options)`` with the spec's other keys only.

    Args:
        spec: a preset name, ``"timm:<name>"``, ``"package.module:factory"`` or a dict (see
            :func:`resolve_spec`).
        in_channels: image channels ``C``.
        num_classes: number of logits.
        image_size: ``(H, W)`` of the images the model will see (CNN heads, LCNs and ViTs are
            built for one size).
        presets: extra named specs (a config's ``model_defs``), searched first.

    Returns:
        The model, mapping ``(N, C, H, W)`` images to ``(N, num_classes)`` logits.

    Example:
        >>> import torch
        >>> from shiftaug.harness.models import build_model
        >>> vit = build_model("vit", in_channels=1, num_classes=10, image_size=(32, 32))
        >>> vit(torch.rand(2, 1, 32, 32)).shape
        torch.Size([2, 10])
    """
    options = resolve_spec(spec, presets)
    kind = options.pop("kind")
    if kind in ("cnn", "lcn"):
        return (CNN if kind == "cnn" else LCN)(in_channels, num_classes, image_size, **options)
    if kind == "gcnn":
        return GCNN(in_channels, num_classes, image_size, **options)
    if kind == "stn":
        classifier = build_model(
            options.pop("classifier", "cnn_flat"),
            in_channels=in_channels,
            num_classes=num_classes,
            image_size=image_size,
            presets=presets,
        )
        return STN(in_channels, image_size, classifier, **options)
    if kind == "vit":
        return build_vit(in_channels, num_classes, image_size, **options)
    if kind == "module":
        return _factory(options.pop("factory", None))(**options)
    import timm

    name = options.pop("name", None)
    if not isinstance(name, str):
        raise ValueError(f"`name` must be a timm model name, but got {describe(name)}.")
    # Never pretrained: the harness downloads nothing.
    return timm.create_model(
        name, pretrained=False, num_classes=num_classes, in_chans=in_channels, **options
    )


def feature_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The layers whose outputs the embedding-invariance index compares, input to output.

    CNN / LCN: every stage, the head's pooled features; G-CNN: every block; STN: its
    classifier's layers; timm ViT: patch embedding and every block; other models: their
    top-level children. The last entry is always ``"logits"``, the decision layer (the model
    itself).

    Example:
        >>> from shiftaug.harness.models import CNN, feature_layers
        >>> [name for name, _ in feature_layers(CNN(1, 10, (16, 16)))]
        ['features.0', 'features.1', 'features.2', 'head.0', 'logits']
    """
    model = getattr(model, "module", model)  # DistributedDataParallel
    return [*_inner_layers(model), ("logits", model)]


def _inner_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    if isinstance(model, CNN):
        stages = [(f"features.{i}", m) for i, m in enumerate(model.features)]
        return [*stages, ("head.0", model.head[0])]
    if isinstance(model, GCNN):
        return [(f"features.{i}", m) for i, m in enumerate(model.features)]
    if isinstance(model, STN):
        inner = _inner_layers(model.classifier)
        return [(f"classifier.{name}", m) for name, m in inner]
    blocks, embed = getattr(model, "blocks", None), getattr(model, "patch_embed", None)
    if isinstance(blocks, nn.Sequential) and isinstance(embed, nn.Module):
        return [("patch_embed", embed)] + [(f"blocks.{i}", m) for i, m in enumerate(blocks)]
    return list(model.named_children())


def _first(value: Any) -> int:
    """The first entry of an int-or-tuple size."""
    return int(value[0] if isinstance(value, (tuple, list)) else value)


def receptive_field(model: nn.Module) -> int | None:
    """Side in pixels of the input region one unit of a CNN's last feature map sees.

    Counts every convolution and pooling of ``model.features`` in order
    (``rf += (k - 1) * jump; jump *= stride``); ``None`` for models without ``features``.

    Example:
        >>> from shiftaug.harness.models import CNN, receptive_field
        >>> receptive_field(CNN(1, 10, (32, 32)))  # 3 x (3x3 conv + 2x2 max pool)
        22
    """
    from ..layers import BlurDown, PolyphaseDown
    from .gcnn import _GroupBlock
    from .lcn import LocallyConnected2d

    features = getattr(getattr(model, "classifier", model), "features", None)
    if not isinstance(features, nn.Module):
        return None
    rf, jump = 1, 1
    for m in features.modules():
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k, s = _first(m.kernel_size), _first(m.stride)
        elif isinstance(m, LocallyConnected2d):
            k, s = m.kernel_size, 1
        elif isinstance(m, BlurDown):
            k, s = m.size, m.stride
        elif isinstance(m, PolyphaseDown):
            k, s = 1, m.stride
        elif type(m).__name__ == "_StridedMax":
            k, s = 2, 1
        elif isinstance(m, _GroupBlock):  # a group convolution, then a 2x2 max pool
            weight = m.conv.weight
            rf += (int(weight.shape[-1]) - 1) * jump if isinstance(weight, torch.Tensor) else 0
            k, s = 2, 2
        else:
            continue
        rf += (int(k) - 1) * jump
        jump *= int(s)
    return rf
