"""What the adapters need on the frameworks' side (registration hooks: ``shiftaug._import_hooks``).

- :func:`missing_framework` turns a missing framework into an error that names the extra;
- :func:`single_thread_after_fork` keeps forked ``multiprocessing`` workers from hanging.
"""

from __future__ import annotations

import os

import torch

__all__ = ["missing_framework", "single_thread_after_fork"]


def missing_framework(error: ModuleNotFoundError, framework: str, extra: str) -> ImportError:
    """The error to raise when an adapter module cannot import its framework.

    ``error`` is what the import raised: if ``framework`` itself is missing, the result says
    which extra installs it; any other missing module is re-raised as it was.
    """
    if error.name is None or error.name.split(".")[0] != framework:
        return error
    return ImportError(
        f"This shiftaug adapter needs {framework}, which is not installed: "
        f"pip install 'shiftaug[{extra}]'."
    )


_forked_child = False


def _mark_forked_child() -> None:
    global _forked_child
    _forked_child = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_mark_forked_child)


def single_thread_after_fork() -> None:
    """Run torch single-threaded in a process forked after torch's thread pool started.

    A forked child inherits a thread pool whose threads did not survive the fork: its first
    parallel op waits for them forever. ``DataLoader`` workers avoid it by setting one thread;
    framework adapters call this at the start of each call, so plain ``multiprocessing``
    workers (albumentations' usual setting) do the same, once, and only in a child that runs
    a shiftaug adapter.
    """
    global _forked_child
    if _forked_child:
        _forked_child = False
        torch.set_num_threads(1)
