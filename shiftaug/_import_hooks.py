"""Registration hooks that run when a framework is imported; torch-free, so ``import shiftaug``
stays light (``shiftaug --help`` does not load torch).

``import shiftaug`` calls :func:`register_with_frameworks`: once albumentations is imported
(before or after shiftaug), our albumentations adapter module is imported too, which registers
our transforms in albumentations' serialization registry, so ``A.load`` finds them.
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

__all__ = ["REGISTERING_MODULES", "register_with_frameworks", "run_after_import"]

# Frameworks that look transforms up by name when loading a saved pipeline, and the shiftaug
# modules whose import registers our transforms there. Add new adapter modules here.
REGISTERING_MODULES: dict[str, tuple[str, ...]] = {
    "albumentations": ("shiftaug.adapters.albumentations",),
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
        _guarded(name, callback)
        return
    sys.meta_path.insert(0, _RunAfter(name, callback))


def register_with_frameworks() -> None:
    """Make every :data:`REGISTERING_MODULES` entry importable by name once its framework is.

    Called by ``import shiftaug``; it imports no framework itself.
    """
    for framework, modules in REGISTERING_MODULES.items():
        for module in modules:
            run_after_import(framework, functools.partial(importlib.import_module, module))
