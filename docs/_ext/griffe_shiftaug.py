"""A griffe extension that makes shiftaug's docstrings render on the mkdocs site.

The docstrings are written for ``help()``, doctest and Sphinx readers; mkdocstrings reads them as
Google-style Markdown. Two habits of the source would show raw on the site, so this extension
rewrites every docstring once the package is loaded (the source files stay as they are):

- ``Example:`` (singular) is a plain admonition to griffe, whose body Markdown then reads as
  nested block quotes (``>>>``). It becomes ``Examples:``, which griffe parses into code blocks.
- Sphinx roles (``:class:`X```, ``:func:`~a.b.c```, ``:mod:``, ``:meth:``, ``:data:``,
  ``:attr:``, ``:exc:``, ``:obj:``) become mkdocstrings cross-references. Each target is
  resolved as Sphinx would (the object's own scope, then its module, then the package, then as
  written) in griffe's object tree; a target found there becomes an optional autoref (a link
  where the page that documents it exists, code text elsewhere), anything else code text.

Loaded from ``mkdocs.yml`` (``extensions: [docs/_ext/griffe_shiftaug.py]``).
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

__all__ = ["ShiftaugDocstrings", "rewrite"]

_EXAMPLE = re.compile(r"^(?P<indent>[ \t]*)Example:[ \t]*$", re.MULTILINE)
_ROLE = re.compile(
    r":(?:py:)?(?P<role>class|func|mod|meth|data|attr|exc|obj|const):"
    r"`(?P<text>[^`]+)`"
)
_TITLED = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^<>]+)>$")


def _lookup(collection: Any, path: str) -> Any:
    try:
        found = collection[path]
        found.canonical_path  # noqa: B018 - raises if an alias cannot be resolved
        return found
    except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None


def _candidates(obj: Any, target: str) -> list[str]:
    """Paths to try for ``target`` written in ``obj``'s docstring, nearest scope first."""
    if target.startswith("."):
        return [f"{obj.module.path}{target}"]
    scopes = []
    node = obj
    while node is not None:
        scopes.append(node.path)
        node = node.parent
    root = obj.module.path.split(".", 1)[0]
    return [f"{scope}.{target}" for scope in scopes] + [f"{root}.{target}", target]


def _replacement(obj: Any, collection: Any, match: re.Match[str]) -> str:
    text = match["text"].strip().lstrip("!")
    titled = _TITLED.match(text)
    title, target = (titled["title"], titled["target"]) if titled else (None, text)
    short = target.startswith("~")
    target = target.lstrip("~")
    if title is None:
        title = target.rsplit(".", 1)[-1] if short else target.lstrip(".")
        if match["role"] in ("func", "meth"):
            title += "()"
    code = f"<code>{html.escape(title)}</code>"
    for path in _candidates(obj, target):
        found = _lookup(collection, path)
        if found is not None:
            identifier = html.escape(found.canonical_path, quote=True)
            return f'<autoref identifier="{identifier}" optional>{code}</autoref>'
    return code


def rewrite(obj: Any, collection: Any) -> None:
    """Rewrite ``obj``'s docstring in place (see the module docstring)."""
    docstring = obj.docstring
    if docstring is None:
        return
    value = _EXAMPLE.sub(r"\g<indent>Examples:", docstring.value)
    value = _ROLE.sub(lambda m: _replacement(obj, collection, m), value)
    if value != docstring.value:
        obj.docstring = griffe.Docstring(
            value,
            lineno=docstring.lineno,
            endlineno=docstring.endlineno,
            parent=obj,
            parser=docstring.parser,
            parser_options=docstring.parser_options,
        )


def _walk(obj: Any, seen: set[str]) -> Any:
    if obj.path in seen:
        return
    seen.add(obj.path)
    yield obj
    for member in obj.members.values():
        if not member.is_alias:  # an alias's docstring belongs to its target, visited there
            yield from _walk(member, seen)


class ShiftaugDocstrings(griffe.Extension):
    """Rewrite ``Example:`` headings and Sphinx roles in every docstring of a loaded package."""

    def on_package(self, *, pkg: Any, loader: Any, **kwargs: Any) -> None:
        for obj in _walk(pkg, set()):
            rewrite(obj, loader.modules_collection)
