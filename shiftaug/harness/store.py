"""Crash-safe files: atomic writes, safe checkpoint loading, readable errors for corrupt results.

Every file is written to a temporary name in the same folder, flushed to disk and renamed over
the target (:func:`os.replace` is atomic), so a killed process leaves either the old file or
the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch

__all__ = [
    "ResultsError",
    "atomic_write",
    "load_checkpoint",
    "read_json",
    "save_checkpoint",
    "write_json",
]


class ResultsError(ValueError):
    """A results file is missing, truncated or not what the harness wrote."""


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write ``path`` through ``write(file)`` so that readers never see a partial file.

    Example:
        >>> import tempfile, pathlib
        >>> from shiftaug.harness.store import atomic_write
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> atomic_write(target, lambda f: f.write(b"done"))
        >>> target.read_text()
        'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | Path, data: Any) -> None:
    """Atomically write ``data`` as indented JSON (NaN is refused: JSON has none)."""
    text = json.dumps(data, indent=1, allow_nan=False) + "\n"
    atomic_write(path, lambda f: f.write(text.encode()))


def read_json(path: str | Path) -> Any:
    """Read JSON; a missing, truncated or invalid file raises :class:`ResultsError`."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ResultsError(f"`{path}` must exist, but it was not found.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ResultsError(
            f"`{path}` must be the JSON the harness writes, but it is unreadable ({error})."
        ) from None


def save_checkpoint(path: str | Path, checkpoint: dict[str, Any]) -> None:
    """Atomically :func:`torch.save` a checkpoint dict."""
    atomic_write(path, lambda f: torch.save(checkpoint, f))


def load_checkpoint(path: str | Path) -> dict[str, Any] | None:
    """Load a checkpoint with ``weights_only=True``; ``None`` (with a warning) if it is unreadable.

    A corrupt or truncated checkpoint only costs the run it belongs to: it is retrained.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
        if (
            not isinstance(data, dict)
            or not {"model", "optimizer", "scheduler", "state"} <= data.keys()
        ):
            raise ValueError("not a harness checkpoint")
        return data
    except Exception as error:  # any unpickling failure means: start the run again
        warnings.warn(
            f"checkpoint {path} is unreadable ({type(error).__name__}: {error}); "
            "the run restarts from scratch.",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
