"""The built documentation site, read as a browser would: every defect that once shipped is checked.

The site is built once (``mkdocs build --strict`` into a temporary folder) when mkdocs and the
docs extra are installed, and these tests skip otherwise. Each check reads the HTML text outside
code blocks, so a docstring example must render as code, a Sphinx role as a link or code, a
formula inside KaTeX's elements, and every script, stylesheet, font and image must come with the
site (no CDN, nothing missing).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
_NEEDED = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "griffe")
_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}
# Markdown turns :class:`X` into ":class:" + <code>X</code>: the role's name is what shows.
_ROLE = re.compile(r":(?:py:)?(?:class|func|mod|meth|data|attr|exc|obj|const):")
_LATEX = re.compile(r"\\\(|\\\[|\$\$|\\begin\{|\\frac|\\text\{")


def _missing_tools() -> list[str]:
    return [name for name in _NEEDED if importlib.util.find_spec(name.split(".")[0]) is None]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = _missing_tools()
    if missing:
        pytest.skip(f"the docs extra is not installed (missing {missing})")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return out


class _Page(HTMLParser):
    """Text outside code blocks (by context), and every asset reference of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []  # (tag, class)
        self.prose: list[str] = []  # text outside <pre>, <code>, <script>, math elements
        self.blockquote_prompts = 0  # ">>>" read as nested quotes, or kept inside one
        self.math = 0  # arithmatex elements
        self.assets: list[tuple[str, str]] = []  # (tag, url) of scripts, stylesheets, images

    def _inside(self, tags: set[str], cls: str = "") -> bool:
        return any(t in tags or (cls and cls in c.split()) for t, c in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "arithmatex" in a.get("class", "").split():
            self.math += 1
        if tag == "script" and a.get("src"):
            self.assets.append((tag, a["src"]))
        elif tag == "link" and {"stylesheet", "preload", "icon", "preconnect"} & set(
            a.get("rel", "").split()
        ):
            self.assets.append((tag, a.get("href", "")))
        elif tag in ("img", "source") and (a.get("src") or a.get("srcset")):
            self.assets.append((tag, a.get("src") or a["srcset"].split()[0]))
        if tag == "blockquote" and self._inside({"blockquote"}):
            self.blockquote_prompts += 1  # Markdown's reading of a ">>>" line
        if tag not in _VOID:
            self.stack.append((tag, a.get("class", "")))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if self._inside({"blockquote"}) and ">>>" in data:
            self.blockquote_prompts += 1
        if not self._inside({"pre", "code", "script", "style"}, "arithmatex"):
            self.prose.append(data)


def _pages(site: Path) -> dict[str, _Page]:
    pages = {}
    for path in sorted(site.rglob("*.html")):
        parser = _Page()
        parser.feed(path.read_text(encoding="utf-8"))
        pages[str(path.relative_to(site))] = parser
    return pages


@pytest.fixture(scope="module")
def pages(site: Path) -> dict[str, _Page]:
    found = _pages(site)
    assert "index.html" in found and "api/functional/index.html" in found
    return found


def _snippets(pattern: re.Pattern[str], text: str) -> list[str]:
    return [text[max(0, m.start() - 40) : m.end() + 40] for m in pattern.finditer(text)]


def test_docstring_examples_render_as_code(pages: dict[str, _Page]) -> None:
    bad = {
        name: page.blockquote_prompts
        for name, page in pages.items()
        if page.blockquote_prompts or ">>>" in "".join(page.prose)
    }
    assert not bad, f"doctest prompts outside code blocks (pages: count): {bad}"


def test_examples_are_highlighted_code(site: Path) -> None:
    html = (site / "api" / "functional" / "index.html").read_text()
    assert html.count('<span class="gp">&gt;&gt;&gt; </span>') >= 5


def test_no_literal_sphinx_roles(pages: dict[str, _Page]) -> None:
    bad = {
        name: _snippets(_ROLE, "".join(page.prose))[:3]
        for name, page in pages.items()
        if _ROLE.search("".join(page.prose))
    }
    assert not bad, f"Sphinx roles shown as text: {bad}"


def test_sphinx_roles_become_links(site: Path) -> None:
    # shiftaug/functional/__init__.py's docstring says :func:`translate_image`; on the placement
    # page the docstrings name :class:`~shiftaug.RandomRelocate`: both objects have API entries.
    html = (site / "placement" / "index.html").read_text()
    link = re.compile(r'<a class="autorefs autorefs-internal"[^>]*href="[^"]*#shiftaug\.\w+')
    assert len(link.findall(html)) >= 5


def test_no_raw_latex(pages: dict[str, _Page]) -> None:
    bad = {
        name: _snippets(_LATEX, "".join(page.prose))[:3]
        for name, page in pages.items()
        if _LATEX.search("".join(page.prose))
    }
    assert not bad, f"LaTeX outside math elements: {bad}"


def test_math_pages_load_katex(pages: dict[str, _Page]) -> None:
    math_pages = {name: page for name, page in pages.items() if page.math}
    assert "experiments/index.html" in math_pages
    for name, page in math_pages.items():
        names = {Path(urlsplit(url).path).name for _, url in page.assets}
        needed = {"katex.min.js", "auto-render.min.js", "katex-init.js", "katex.min.css"}
        assert needed <= names, f"{name} has formulas but lacks {needed - names}"


def _local(site: Path, page: str, url: str) -> Path:
    path = unquote(urlsplit(url).path)
    return site / path.lstrip("/") if path.startswith("/") else (site / page).parent / path


def test_assets_are_local_and_present(site: Path, pages: dict[str, _Page]) -> None:
    remote, missing = [], []
    for name, page in pages.items():
        for tag, url in page.assets:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") or url.startswith("//"):
                remote.append((name, tag, url))
            elif parts.scheme not in ("data",) and not _local(site, name, url).is_file():
                missing.append((name, tag, url))
    assert not remote, f"assets loaded from the network: {remote[:5]}"
    assert not missing, f"assets missing from the site: {missing[:5]}"


def test_stylesheets_reference_local_files(site: Path) -> None:
    css = site / "assets" / "katex" / "katex.min.css"
    urls = re.findall(r"url\(([^)]+)\)", css.read_text())
    assert len(urls) >= 20  # every KaTeX font
    for url in urls:
        url = url.strip("'\"")
        assert not urlsplit(url).scheme, url
        assert (css.parent / url).is_file(), f"{css.name} needs {url}"
    for path in site.rglob("*.css"):
        assert not re.search(r"@import\s+url\((['\"]?)(https?:)?//", path.read_text()), path


def test_no_web_fonts_or_cdn_in_pages(site: Path) -> None:
    cdn = re.compile(r"fonts\.googleapis|fonts\.gstatic|cdn\.jsdelivr|unpkg\.com|cdnjs|mathjax")
    hits = [
        str(p.relative_to(site)) for p in site.rglob("*.html") if cdn.search(p.read_text().lower())
    ]
    assert not hits, f"pages naming a CDN: {hits}"


def test_griffe_extension_rewrites_roles_and_examples(tmp_path: Path) -> None:
    if _missing_tools():
        pytest.skip("the docs extra is not installed")
    import griffe

    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from .core import Thing\n"
        "def helper(x):\n"
        '    """Uses :class:`Thing`, :func:`~pkg.core.make`, :class:`a thing <Thing>`,\n'
        "    :mod:`pkg.core`, :func:`math.floor` and :meth:`Thing.go`.\n\n"
        "    Example:\n"
        "        >>> helper(1)\n"
        "        1\n"
        '    """\n'
    )
    (package / "core.py").write_text(
        "class Thing:\n    def go(self):\n        pass\n\ndef make():\n    pass\n"
    )
    spec = importlib.util.spec_from_file_location(
        "griffe_shiftaug", ROOT / "docs" / "_ext" / "griffe_shiftaug.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    loader = griffe.GriffeLoader(
        extensions=griffe.load_extensions(module.ShiftaugDocstrings()),
        search_paths=[str(tmp_path)],
        docstring_parser=griffe.Parser.google,
    )
    loader.load("pkg")
    doc = loader.modules_collection["pkg.helper"].docstring
    text = doc.value
    assert '<autoref identifier="pkg.core.Thing" optional><code>Thing</code></autoref>' in text
    assert '<autoref identifier="pkg.core.make" optional><code>make()</code></autoref>' in text
    assert '<autoref identifier="pkg.core.Thing" optional><code>a thing</code></autoref>' in text
    assert '<autoref identifier="pkg.core" optional><code>pkg.core</code></autoref>' in text
    assert "<code>math.floor()</code>" in text and "math.floor" not in text.replace(
        "<code>math.floor()</code>", ""
    )  # unknown targets: code, no link
    assert '<autoref identifier="pkg.core.Thing.go" optional>' in text
    kinds = [section.kind.value for section in doc.parse(griffe.Parser.google)]
    assert "examples" in kinds and "admonition" not in kinds
