"""Models the harness trains: CNN variants, a small ViT, and any timm model by name.

A model is named by a *spec*: a preset name from :data:`MODEL_PRESETS`, ``"timm:<name>"``, or a
dict ``{"base": <preset>, **overrides}`` / ``{"kind": "cnn" | "vit" | "timm", **options}``.
:func:`build_model` turns a spec into an ``nn.Module`` mapping ``(N, C, H, W)`` images to
``(N, classes)`` logits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from .._checks import check_choice, describe
from .layers import make_conv, make_pool

__all__ = ["CNN", "MODEL_PRESETS", "build_model", "feature_layers", "resolve_spec"]

HEADS = ("gap", "flatten")
KINDS = ("cnn", "vit", "timm")

MODEL_PRESETS: dict[str, dict[str, Any]] = {
    # Small VGG-style CNNs (3 stages, 16-32-64 channels): one switch changed at a time.
    "cnn": {"kind": "cnn"},
    "cnn_flat": {"kind": "cnn", "head": "flatten"},  # LeNet/VGG-style fully connected head
    "cnn_avg": {"kind": "cnn", "pool": "avg"},
    "cnn_blur": {"kind": "cnn", "pool": "blur"},  # Zhang 2019 MaxBlurPool (kornia)
    "cnn_circular": {"kind": "cnn", "padding": "circular"},
    "cnn_full": {"kind": "cnn", "padding": "full"},
    "cnn_aps": {"kind": "cnn", "padding": "circular", "pool": "aps"},
    # ResNet-18-style: 4 stages x 2 basic blocks, 64-512 channels (for GPUs).
    "resnet18": {"kind": "cnn", "widths": (64, 128, 256, 512), "depth": 2, "residual": True},
    "resnet18_blur": {
        "kind": "cnn",
        "widths": (64, 128, 256, 512),
        "depth": 2,
        "residual": True,
        "pool": "blur",
    },
    "resnet18_aps": {
        "kind": "cnn",
        "widths": (64, 128, 256, 512),
        "depth": 2,
        "residual": True,
        "pool": "aps",
        "padding": "circular",
    },
    # Small ViTs (timm VisionTransformer): class token + learned positions, or mean pooling.
    "vit": {"kind": "vit"},
    "vit_gap": {"kind": "vit", "global_pool": "avg", "class_token": False},
}


class _ConvBNReLU(nn.Sequential):
    def __init__(self, cin: int, cout: int, kernel_size: int, padding: str) -> None:
        super().__init__(
            make_conv(cin, cout, kernel_size, padding), nn.BatchNorm2d(cout), nn.ReLU()
        )


class _Residual(nn.Module):
    """A ResNet basic block (two convolutions) with a 1x1 projection when widths differ."""

    def __init__(self, cin: int, cout: int, kernel_size: int, padding: str) -> None:
        super().__init__()
        if padding == "full":
            raise ValueError(
                "`padding` must be 'zeros' or 'circular' with residual=True, but got 'full'."
            )
        self.body = nn.Sequential(
            _ConvBNReLU(cin, cout, kernel_size, padding),
            make_conv(cout, cout, kernel_size, padding),
            nn.BatchNorm2d(cout),
        )
        self.skip = (
            nn.Identity()
            if cin == cout
            else nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


class CNN(nn.Module):
    """A CNN with switchable kernel size, padding, pooling and head.

    Each stage is ``depth`` conv-BN-ReLU layers (or ``depth`` residual basic blocks) followed by
    a 2x downsampling; the head is global average pooling + linear (``"gap"``) or flatten +
    linear (``"flatten"``, whose weights are tied to absolute positions).

    Args:
        in_channels: image channels ``C``.
        num_classes: number of logits.
        image_size: ``(H, W)`` of the inputs (fixes the size of a ``"flatten"`` head).
        widths: channels per stage.
        depth: layers (or residual blocks) per stage.
        kernel_size: convolution kernel size.
        padding: ``"zeros"``, ``"circular"`` or ``"full"`` (see :func:`~.layers.make_conv`).
        pool: ``"max"``, ``"avg"``, ``"blur"``, ``"blur_avg"`` or ``"aps"`` (see
            :func:`~.layers.make_pool`).
        head: ``"gap"`` or ``"flatten"``.
        residual: use residual basic blocks.

    Shape:
        - input: ``(N, C, H, W)``; output: ``(N, num_classes)``

    Example:
        >>> import torch
        >>> from shiftaug.harness.models import CNN
        >>> net = CNN(1, 10, (16, 16), pool="aps", padding="circular").eval()
        >>> x = torch.rand(4, 1, 16, 16)
        >>> rolled = torch.roll(x, (3, -5), dims=(-2, -1))
        >>> torch.equal(net(x).argmax(1), net(rolled).argmax(1))  # exactly shift invariant
        True
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        image_size: tuple[int, int],
        *,
        widths: Sequence[int] = (16, 32, 64),
        depth: int = 1,
        kernel_size: int = 3,
        padding: str = "zeros",
        pool: str = "max",
        head: str = "gap",
        residual: bool = False,
    ) -> None:
        super().__init__()
        check_choice("head", head, HEADS)
        if not widths or any(
            isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths
        ):
            raise ValueError(f"`widths` must be a non-empty list of ints >= 1, but got {widths!r}.")
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"`depth` must be an int >= 1, but got {describe(depth)}.")
        stages: list[nn.Module] = []
        cin = in_channels
        block = _Residual if residual else _ConvBNReLU
        for width in widths:
            layers = [
                block(cin if i == 0 else width, width, kernel_size, padding) for i in range(depth)
            ]
            stages.append(nn.Sequential(*layers, make_pool(pool, circular=padding == "circular")))
            cin = width
        self.features = nn.Sequential(*stages)
        with torch.no_grad():  # the flatten head's size depends on the padding and pooling
            shape = self.features(torch.zeros(1, in_channels, *image_size)).shape[1:]
        features = shape.numel() if head == "flatten" else shape[0]
        pool_layer: nn.Module = (
            nn.Flatten()
            if head == "flatten"
            else nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        )
        self.head = nn.Sequential(pool_layer, nn.Linear(features, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def resolve_spec(
    spec: str | Mapping[str, Any], presets: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Expand a model spec into a full option dict with a ``kind``.

    Args:
        spec: a preset name, ``"timm:<name>"``, or a dict with ``base`` (a preset to override)
            or ``kind``.
        presets: extra named specs (e.g. from a config's ``model_defs``), searched first.

    Returns:
        A new dict with ``kind`` and the model's options.

    Example:
        >>> from shiftaug.harness.models import resolve_spec
        >>> resolve_spec({"base": "cnn_aps", "widths": [8, 16]})["pool"]
        'aps'
    """
    table = {**MODEL_PRESETS, **(presets or {})}
    if isinstance(spec, str):
        if spec.startswith("timm:"):
            return {"kind": "timm", "name": spec[5:]}
        if spec not in table:
            raise ValueError(
                f"`model` must be one of {sorted(table)} or 'timm:<name>', but got {spec!r}."
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


def build_model(
    spec: str | Mapping[str, Any],
    *,
    in_channels: int,
    num_classes: int,
    image_size: tuple[int, int],
    presets: Mapping[str, Any] | None = None,
) -> nn.Module:
    """Build the model a spec names (see :func:`resolve_spec`).

    Example:
        >>> import torch
        >>> from shiftaug.harness.models import build_model
        >>> vit = build_model("vit", in_channels=1, num_classes=10, image_size=(32, 32))
        >>> vit(torch.rand(2, 1, 32, 32)).shape
        torch.Size([2, 10])
    """
    options = resolve_spec(spec, presets)
    kind = options.pop("kind")
    if kind == "cnn":
        return CNN(in_channels, num_classes, image_size, **options)
    if kind == "vit":
        from timm.models.vision_transformer import VisionTransformer

        # Small enough to train on a CPU in minutes; patch 8 keeps the token count low.
        defaults = {"patch_size": 8, "embed_dim": 64, "depth": 4, "num_heads": 4, "mlp_ratio": 2.0}
        return VisionTransformer(
            img_size=image_size,
            in_chans=in_channels,
            num_classes=num_classes,
            **{**defaults, **options},
        )
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

    CNN: every stage and the head's pooled features; timm ViT: patch embedding and every
    block; other models: their top-level children.

    Example:
        >>> from shiftaug.harness.models import CNN, feature_layers
        >>> [name for name, _ in feature_layers(CNN(1, 10, (16, 16)))]
        ['features.0', 'features.1', 'features.2', 'head.0']
    """
    model = getattr(model, "module", model)  # DistributedDataParallel
    if isinstance(model, CNN):
        stages = [(f"features.{i}", m) for i, m in enumerate(model.features)]
        return [*stages, ("head.0", model.head[0])]
    blocks, embed = getattr(model, "blocks", None), getattr(model, "patch_embed", None)
    if isinstance(blocks, nn.Sequential) and isinstance(embed, nn.Module):
        return [("patch_embed", embed)] + [(f"blocks.{i}", m) for i, m in enumerate(blocks)]
    return list(model.named_children())
