"""Crash-safe files: atomic writes, safe checkpoint loading, readable errors for corrupt results.

Every file is written to a temporary name in the same folder, flushed to disk and renamed over
the target (:func:`os.replace` is atomic), so a killed process leaves either the old file or
the new one, never half of one. A temporary's name carries its writer's process id; the next
write of the same file deletes the temporaries of writers that no longer run. A failed write
(full disk, no permission) raises an :class:`OSError` naming the file.

:class:`FolderLock` keeps two experiments from writing into one output folder at once.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import socket
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import torch

__all__ = [
    "FolderLock",
    "FolderLockedError",
    "ResultsError",
    "atomic_write",
    "load_checkpoint",
    "read_json",
    "remove_stale_temporaries",
    "save_checkpoint",
    "write_json",
]

_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp$")


class ResultsError(ValueError):
    """A results file is missing, truncated or not what the harness wrote."""


class FolderLockedError(RuntimeError):
    """Another running process holds the output folder's lock."""


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # another user's process, or no way to tell
        return True
    return True


def remove_stale_temporaries(folder: str | Path, name: str | None = None) -> list[Path]:
    """Delete the temporaries that killed writers left in ``folder`` (of file ``name`` only,
    if given); a temporary whose writer still runs on this machine is kept.

    Returns:
        The deleted paths.
    """
    removed = []
    for path in Path(folder).glob(".*.tmp"):
        match = _TEMPORARY.match(path.name)
        if name is not None and not path.name.startswith(f".{name}."):
            continue
        if match is None or not _running(int(match["pid"])):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


class FolderLock:
    """An exclusive lock on an output folder while one experiment writes there.

    The lock is the operating system's (``flock``; ``msvcrt.locking`` on Windows) on
    ``FOLDER/.shiftaug.lock``, so it ends with its process however that ends (a kill included):
    a file left behind by a killed run is no lock. The file names the holder (process id, host,
    start time) for the error a second process gets.

    Example:
        >>> import tempfile
        >>> from shiftaug.harness.store import FolderLock, FolderLockedError
        >>> folder = tempfile.mkdtemp()
        >>> with FolderLock(folder):
        ...     try:
        ...         FolderLock(folder).__enter__()
        ...     except FolderLockedError as error:
        ...         print("in use" in str(error))
        True
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / ".shiftaug.lock"
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            _lock(fd)
        except OSError:
            holder = self.path.read_text(errors="replace").strip() or "another process"
            os.close(fd)
            raise FolderLockedError(
                f"`--out` {self.folder} must not be in use by another experiment, but it is "
                f"({holder}); wait for that run to finish or use another --out."
            ) from None
        os.ftruncate(fd, 0)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {stamp}\n".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # the file stays: deleting it would race a new locker
            os.close(self._fd)  # closing releases the lock
            self._fd = None


def _lock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """Re-raise an OSError with ``path`` as its file name (a full disk names no file)."""
    try:
        yield
    except OSError as error:
        if error.errno is None or error.filename == str(path):
            raise
        raise type(error)(error.errno, error.strerror, str(path)) from error


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
    with _naming(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path.parent, path.name)
        prefix = f".{path.name}.{os.getpid()}."
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
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
    """Atomically :func:`torch.save` a checkpoint dict.

    It is serialized in memory first: torch's zip writer turns a failed write (a full disk) into
    an unrelated RuntimeError, while a plain write raises an OSError naming the file.
    """
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    atomic_write(path, lambda f: f.write(buffer.getbuffer()))


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
