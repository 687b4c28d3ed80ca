"""Small vision transformers (timm ``VisionTransformer``) sized to train on a CPU in minutes."""

from __future__ import annotations

from typing import Any

from torch import nn

__all__ = ["VIT_DEFAULTS", "build_vit"]

# Patch 8 keeps the token count low; 64 dims x 4 blocks trains from scratch on a CPU.
VIT_DEFAULTS: dict[str, Any] = {
    "patch_size": 8,
    "embed_dim": 64,
    "depth": 4,
    "num_heads": 4,
    "mlp_ratio": 2.0,
}


def build_vit(
    in_channels: int, num_classes: int, image_size: tuple[int, int], **options: Any
) -> nn.Module:
    """A timm ``VisionTransformer`` with :data:`VIT_DEFAULTS` under ``options``.

    Useful options: ``patch_size``, ``pos_embed`` (``"learn"`` or ``"none"``), ``class_token``
    and ``global_pool`` (``"token"`` or ``"avg"``).

    Example:
        >>> import torch
        >>> from shiftaug.harness.models.vit import build_vit
        >>> build_vit(1, 10, (32, 32), patch_size=4)(torch.rand(2, 1, 32, 32)).shape
        torch.Size([2, 10])
    """
    from timm.models.vision_transformer import VisionTransformer

    return VisionTransformer(
        img_size=image_size,
        in_chans=in_channels,
        num_classes=num_classes,
        **{**VIT_DEFAULTS, **options},
    )
