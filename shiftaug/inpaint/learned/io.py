"""Model files of the learned inpainter: ``.safetensors`` (preferred) or ``.pt``.

A file holds the generator's weights, its architecture (:class:`NetConfig`) and a record of how
it was trained. ``.safetensors`` files carry the last two as JSON strings in the header's
metadata; ``.pt`` files are a plain dict read with ``torch.load(weights_only=True)``, so
neither format can run code when loaded. Nothing is ever downloaded: a path that does not exist
is an error.
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

import torch

from ..._checks import describe
from .network import FillNet, NetConfig

__all__ = ["DEFAULT_MODEL", "FORMAT", "InpainterFileError", "load_inpainter", "save_inpainter"]

FORMAT = "shiftaug.inpainter/1"
SUFFIXES = (".safetensors", ".pt")
# Trained by `shiftaug train-inpainter --preset quick` on the scikit-image photos (see the guide).
DEFAULT_MODEL = Path(__file__).with_name("quick64.safetensors")


class InpainterFileError(ValueError):
    """A model file is missing, unreadable or not a shiftaug inpainter."""


def _path(path: object) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"`checkpoint` must be a path (str or os.PathLike), but got {describe(path)}."
        )
    result = Path(path)
    if result.suffix not in SUFFIXES:
        raise InpainterFileError(
            f"`checkpoint` must end in {' or '.join(SUFFIXES)}, but got {str(path)!r}."
        )
    return result


def save_inpainter(
    net: FillNet, path: str | os.PathLike[str], *, info: dict[str, Any] | None = None
) -> Path:
    """Write ``net`` (weights, architecture, ``info``) to ``path`` atomically; returns the path.

    The format follows the suffix: ``.safetensors`` or ``.pt``.

    Args:
        net: the generator to save.
        path: the model file to write (its folder must exist).
        info: JSON-serializable training record stored with the weights.

    Example:
        >>> import tempfile, pathlib
        >>> from shiftaug.inpaint.learned import FillNet, NetConfig, load_inpainter, save_inpainter
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.safetensors"
        >>> _ = save_inpainter(FillNet(NetConfig(width=4, blocks=1)), path, info={"steps": 0})
        >>> net, info = load_inpainter(path)
        >>> net.config.width, info["steps"]
        (4, 0)
    """
    from ...harness.store import atomic_write

    target = _path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    meta = {"format": FORMAT, "net": net.config.to_dict(), "info": info or {}}
    if target.suffix == ".safetensors":
        from safetensors.torch import save

        payload = save(state, metadata={k: json.dumps(v) for k, v in meta.items()})
        atomic_write(target, lambda f: f.write(payload))
    else:
        atomic_write(target, lambda f: torch.save({**meta, "state_dict": state}, f))
    return target


def _read(path: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """``(metadata, state_dict)`` of a model file, or a clear error."""
    if not path.is_file():
        raise InpainterFileError(
            f"`checkpoint` must be an existing model file, but {str(path)!r} was not found "
            "(train one with `shiftaug train-inpainter`; nothing is downloaded)."
        )
    state: Any = None
    try:
        if path.suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as file:
                raw = file.metadata() or {}
                state = {key: file.get_tensor(key) for key in file.keys()}  # noqa: SIM118
            meta = {key: json.loads(value) for key, value in raw.items()}
        else:
            data = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(data, dict):
                raise InpainterFileError(f"it holds {describe(data)}")
            meta = {k: v for k, v in data.items() if k != "state_dict"}
            state = data.get("state_dict")
    except InpainterFileError as error:
        raise InpainterFileError(
            f"`checkpoint` must be a model written by shiftaug, but {str(path)!r}: {error}."
        ) from None
    except Exception as error:  # safetensors, pickle and JSON raise many kinds
        raise InpainterFileError(
            f"`checkpoint` must be a readable {path.suffix} model file, but reading "
            f"{str(path)!r} failed: {type(error).__name__}: {error}"
        ) from None
    if meta.get("format") != FORMAT or not isinstance(state, dict):
        raise InpainterFileError(
            f"`checkpoint` must be a model written by shiftaug ({FORMAT!r}), but {str(path)!r} "
            f"has format {meta.get('format')!r}."
        )
    return meta, state


def load_inpainter(
    path: str | os.PathLike[str] = DEFAULT_MODEL,
) -> tuple[FillNet, dict[str, Any]]:
    """Read a model file: ``(generator in eval mode on the CPU, training record)``.

    Args:
        path: a ``.safetensors`` or ``.pt`` file written by :func:`save_inpainter`; default:
            the model shipped with shiftaug.

    Raises:
        InpainterFileError: (a ``ValueError``) the file is missing, unreadable, not written by
            shiftaug, or its weights do not fit its architecture.
    """
    target = _path(path)
    meta, state = _read(target)
    known = {f.name for f in fields(NetConfig)}
    spec = meta.get("net")
    if not isinstance(spec, dict) or set(spec) - known:
        raise InpainterFileError(
            f"`checkpoint` must describe a known architecture (keys {sorted(known)}), but "
            f"{str(target)!r} has {spec!r}."
        )
    try:
        net = FillNet(NetConfig(**spec))
        net.load_state_dict(state)
    except (RuntimeError, ValueError, TypeError) as error:
        raise InpainterFileError(
            f"`checkpoint` weights must fit the architecture it names, but {str(target)!r}: {error}"
        ) from None
    info = meta.get("info")
    return net.eval().requires_grad_(False), info if isinstance(info, dict) else {}
