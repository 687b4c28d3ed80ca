"""The training harness: offline data, models, invariance metrics, training and reports.

Run it as ``shiftaug experiment --preset quick`` (see ``docs/experiments.md``). Modules:

- :mod:`~shiftaug.harness.config`: dataclass config, YAML presets, ``--set`` overrides
- :mod:`~shiftaug.harness.data`, :mod:`~shiftaug.harness.natural`: canvases, the position
  probe, CIFAR-10 / ImageFolder from a local folder
- :mod:`~shiftaug.harness.models`, :mod:`~shiftaug.harness.layers`: CNN variants (APS,
  BlurPool, circular/full padding), small ViTs, timm models by name
- :mod:`~shiftaug.harness.arms`: the augmentations compared
- :mod:`~shiftaug.harness.metrics`: shift-invariance metrics for any classifier
- :mod:`~shiftaug.harness.train`, :mod:`~shiftaug.harness.experiment`: training loop and grid
- :mod:`~shiftaug.harness.report`, :mod:`~shiftaug.harness.plots`: report.md and PNG plots
- :mod:`~shiftaug.harness.evaluation`: :func:`evaluate_model`, the metrics and report card
  of any trained model (``shiftaug evaluate``)
- :mod:`~shiftaug.harness.claims`: the claims suite (``shiftaug experiment --preset claims``)

Nothing is imported eagerly, so ``import shiftaug`` stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["evaluate_model"]


def __getattr__(name: str) -> Any:
    if name == "evaluate_model":
        from .evaluation import evaluate_model

        return evaluate_model
    raise AttributeError(f"module 'shiftaug.harness' has no attribute {name!r}")
