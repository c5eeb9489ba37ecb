"""The documentation site builds strictly, offline, and refuses to publish bad kernels."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from site_support import (
    NAV_PAGES,
    build_env,
    copy_checkout,
    require_built_site,
    run_build,
)

BROKEN_BACKWARD = """

# --- deliberately broken by tests/test_site_build.py: flip the sign of one gradient ---
_unbroken_backward = backward


def backward(*args, **kwargs):
    grads = _unbroken_backward(*args, **kwargs)
    first = next(iter(grads))
    grads[first] = -grads[first]
    return grads
"""


def test_strict_build_succeeds() -> None:
    """`mkdocs build --strict` of the repository exits 0 and writes every navigation page."""
    site = require_built_site()
    missing = [page for page in NAV_PAGES if not (site / page).is_file()]
    assert not missing, f"pages not built: {missing}"


def test_mathjax_is_served_from_the_site() -> None:
    """The build copies MathJax (component, TeX extensions, fonts) into site/assets/mathjax."""
    mathjax = require_built_site() / "assets" / "mathjax"
    assert (mathjax / "tex-chtml.js").is_file()
    assert (mathjax / "input" / "tex" / "extensions" / "boldsymbol.js").is_file()
    fonts = list((mathjax / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert len(fonts) > 10


class _ResourceCollector(HTMLParser):
    """Collects the URLs a page loads by itself (scripts, styles, images, frames, fonts)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in {"script", "img", "iframe", "source", "audio", "video", "embed"}:
            self.urls.append(values.get("src") or "")
        if tag == "link" and values.get("rel") not in {"canonical", "alternate"}:
            self.urls.append(values.get("href") or "")


def test_no_page_references_a_remote_resource() -> None:
    """No built HTML page loads a script, stylesheet, font or image from another host."""
    site = require_built_site()
    offenders = []
    for page in sorted(site.rglob("*.html")):
        collector = _ResourceCollector()
        collector.feed(page.read_text(encoding="utf-8"))
        for url in collector.urls:
            if re.match(r"^(https?:)?//", url):
                offenders.append(f"{page.relative_to(site)}: {url}")
    assert not offenders, "\n".join(offenders)


def test_verification_report_is_injected_at_build_time() -> None:
    """The verification page holds this build's report for every backend, and the source page
    stays a stub."""
    html = (require_built_site() / "verification" / "index.html").read_text(encoding="utf-8")
    assert "lstm-sym:verification-report" not in html
    assert "Kernel <code>lstm (numpy)</code>" in html
    assert "Kernel <code>lstm (torch)</code>" in html
    assert "Versions" in html
    source = Path(__file__).resolve().parents[1] / "docs" / "verification.md"
    assert "Kernel `lstm" not in source.read_text(encoding="utf-8")


def test_broken_kernel_fails_the_build_naming_it(tmp_path: Path) -> None:
    """A copy of the repository whose LSTM backward has one gradient's sign flipped does not build,
    and the error names the kernel and the tensor."""
    copy = copy_checkout()
    kernel = copy / "lstm_sym" / "kernels" / "lstm.py"
    kernel.write_text(kernel.read_text(encoding="utf-8") + BROKEN_BACKWARD, encoding="utf-8")
    result = run_build(copy, tmp_path / "site", env=build_env(pythonpath=copy))
    assert result.returncode != 0, "the build published a kernel with a wrong gradient"
    assert "kernel verification failed" in result.output, result.output
    assert "'lstm'" in result.output, result.output
    assert "W_f" in result.output, result.output


def test_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    """The validation settings turn a link to a missing page into a strict-build error."""
    copy = copy_checkout()
    page = copy / "docs" / "further-reading.md"
    page.write_text(
        page.read_text(encoding="utf-8") + "\nSee [nowhere](no-such-page.md).\n",
        encoding="utf-8",
    )
    result = run_build(copy, tmp_path / "site", env=build_env(pythonpath=copy))
    assert result.returncode != 0
    assert "no-such-page.md" in result.output, result.output


def test_missing_snippet_fails_the_strict_build(tmp_path: Path) -> None:
    """An include of a generated snippet that does not exist stops the build."""
    copy = copy_checkout()
    page = copy / "docs" / "notation.md"
    page.write_text(
        page.read_text(encoding="utf-8") + '\n--8<-- "lstm/no-such-snippet.md"\n',
        encoding="utf-8",
    )
    result = run_build(copy, tmp_path / "site", env=build_env(pythonpath=copy))
    assert result.returncode != 0
    assert "no-such-snippet.md" in result.output, result.output


def test_config_enables_the_required_features() -> None:
    """mkdocs.yml turns on every feature the issue asks for and keeps fonts and math local."""
    from mkdocs.config import load_config

    config = load_config(str(Path(__file__).resolve().parents[1] / "mkdocs.yml"))
    features = set(config.theme["features"])
    assert {"navigation.instant", "content.code.copy", "content.tabs.link"} <= features
    assert config.theme["font"] is False
    assert len(config.theme["palette"]) == 2  # light / dark toggle
    assert any(name.endswith("search") for name in config.plugins)
    extensions = set(config.markdown_extensions)
    assert {"admonition", "pymdownx.details", "footnotes", "pymdownx.tabbed"} <= extensions
    assert config.mdx_configs["pymdownx.arithmatex"] == {"generic": True}
    assert config.mdx_configs["pymdownx.snippets"]["check_paths"] is True
    assert all(not str(js).startswith(("http:", "https:", "//")) for js in config.extra_javascript)
    assert config.validation.links.anchors == 30  # logging.WARNING: an error under --strict


def _titles_and_paths(items: list[object]) -> list[str]:
    out: list[str] = []
    for item in items:
        if isinstance(item, dict):
            for title, value in item.items():
                out.append(title)
                if isinstance(value, list):
                    out += _titles_and_paths(value)
                else:
                    out.append(str(value))
        else:
            out.append(str(item))
    return out


def test_student_track_reads_in_course_order() -> None:
    """The Learn section runs Why LSTM → cell → gates → BPTT → Explore → Exercises → the
    experiment, and derivation pages the nav does not name land after Variants in Reference."""
    from mkdocs.config import load_config

    from lstm_sym.site import events

    config = load_config(str(Path(__file__).resolve().parents[1] / "mkdocs.yml"))
    events._add_generated_pages(config)
    sections = {
        next(iter(item)): item[next(iter(item))] for item in config.nav if isinstance(item, dict)
    }
    learn = [p for p in _titles_and_paths(sections["Learn"]) if p.endswith(".md")]
    order = [
        "why-lstm.md",
        "cell.md",
        "gates/forget.md",
        "gates/input.md",
        "gates/output.md",
        "derivations/lstm.md",
        "explore.md",
        "exercises.md",
        "experiments/long-context.md",
    ]
    assert [p for p in learn if p in order] == order
    assert not [p for p in learn if p.startswith("derivations/") and p != "derivations/lstm.md"]
    reference = _titles_and_paths(sections["Reference"])
    assert reference.index(events.MORE_CELLS) == reference.index("variants.md") + 1
