"""Registration hooks that run when a framework is imported; torch-free, so ``import shiftaug``
stays light (``shiftaug --help`` does not load torch).

``import shiftaug`` calls :func:`register_with_frameworks`: once albumentations is imported
(before or after shiftaug), our albumentations adapter modules are imported too, which
registers our transforms in albumentations' serialization registry, so ``A.load`` finds them.
An adapter base module that imports albumentations itself holds that registration until its
classes exist (:func:`hold_registration` / :func:`release_registration`).
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

__all__ = [
    "REGISTERING_MODULES",
    "hold_registration",
    "register_with_frameworks",
    "release_registration",
    "run_after_import",
]

# Frameworks that look transforms up by name when loading a saved pipeline, and the shiftaug
# modules whose import registers our transforms there. Add new adapter modules here.
REGISTERING_MODULES: dict[str, tuple[str, ...]] = {
    "albumentations": (
        "shiftaug.adapters.albumentations",
        "shiftaug.adapters.placement_albumentations",
    ),
}


class _RunAfter(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Wraps the loader of one module so that ``callback`` runs right after it executes."""

    def __init__(self, name: str, callback: Callable[[], object]) -> None:
        self.name, self.callback = name, callback
        self.loader: importlib.abc.Loader | None = None

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name or self.loader is not None:
            return None
        sys.meta_path.remove(self)  # one-shot; the other finders locate the real module
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        self.loader, spec.loader = spec.loader, self
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        assert self.loader is not None
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        assert self.loader is not None
        module.__loader__ = self.loader  # the real loader, for introspection and reloads
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        _guarded(self.name, self.callback)


def _guarded(name: str, callback: Callable[[], object]) -> None:
    try:
        callback()
    except Exception as error:  # never break the user's import of either package
        warnings.warn(f"shiftaug could not register its {name} adapter: {error!r}", stacklevel=3)


def run_after_import(name: str, callback: Callable[[], object]) -> None:
    """Run ``callback`` once module ``name`` is imported: now if it already is, else right after.

    Used by ``import shiftaug`` to register the albumentations adapter in albumentations'
    serialization registry without importing albumentations itself (``A.load`` then finds
    ``shiftaug`` transforms in whatever order the two packages were imported).
    """
    if name in sys.modules:
        if sys.modules[name] is not None:  # None: imports of it are blocked, nothing to do
            _guarded(name, callback)
        return
    sys.meta_path.insert(0, _RunAfter(name, callback))


def register_with_frameworks() -> None:
    """Make every :data:`REGISTERING_MODULES` entry importable by name once its framework is.

    Called by ``import shiftaug``; it imports no framework itself.
    """
    for framework in REGISTERING_MODULES:
        run_after_import(framework, functools.partial(_register, framework))


# Adapter base modules that are importing their framework right now, per framework: the
# framework's import fires the registration, which must wait until the base's classes exist
# (the adapter modules it imports build on them).
_holding: dict[str, set[str]] = {}
_pending: set[str] = set()


def _register(framework: str) -> None:
    if _holding.get(framework):
        _pending.add(framework)
        return
    for module in REGISTERING_MODULES[framework]:
        importlib.import_module(module)


def hold_registration(framework: str, module: str) -> None:
    """Called by an adapter base ``module`` before it imports ``framework``."""
    _holding.setdefault(framework, set()).add(module)


def release_registration(framework: str, module: str) -> None:
    """Called by an adapter base ``module`` once its classes are defined: run the
    registration that ``framework``'s import asked for meanwhile."""
    _holding.get(framework, set()).discard(module)
    if framework in _pending and not _holding.get(framework):
        _pending.discard(framework)
        _guarded(framework, functools.partial(_register, framework))
