"""The built site teaches what the lecture notes teach, and shows the generated material."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from site_support import REPO, require_built_site

#: (built page, phrase): every concept of the lecture notes, on the page that teaches it.
LECTURE_CONCEPTS = [
    ("why-lstm/index.html", "I live in Gujarat & I know Gujarati"),
    ("why-lstm/index.html", "I live in Gujarat & I own a garment business here. I know ?"),
    ("why-lstm/index.html", "Context is near"),
    ("why-lstm/index.html", "Context is far"),
    ("cell/index.html", "Cell state"),
    ("cell/index.html", "Hidden state"),
    ("cell/index.html", "whether to erase the cell"),
    ("cell/index.html", "whether to write to the cell"),
    ("cell/index.html", "how much to write to the cell"),
    ("cell/index.html", "how much of the cell to reveal"),
    ("cell/index.html", "Gate gate"),
    ("cell/index.html", "into 0 … 1"),
    ("cell/index.html", "into −1 … 1"),
    ("cell/index.html", "σ filters, tanh adds or modifies"),
    ("gates/forget/index.html", "Bob is a nice person. Dan on the other hand is evil."),
    (
        "gates/input/index.html",
        "Bob knows swimming. He told me over the phone that he had served the navy for 4 long "
        "years.",
    ),
    (
        "gates/output/index.html",
        "Bob fought single handedly with the enemy & died for his country. For his "
        "contributions brave Bob",
    ),
    ("gates/output/index.html", "English expects a noun"),
    ("further-reading/index.html", "Understanding LSTM Networks"),
    ("further-reading/index.html", "Hochreiter"),
    ("further-reading/index.html", "LSTM: A Search Space Odyssey"),
    ("index.html", 'pip install -e ".[docs,test]"'),
    ("index.html", "lstm-sym regenerate"),
    ("index.html", "mkdocs serve"),
]


def page_text(relative: str) -> str:
    """The visible text of a built page: tags dropped, entities decoded, spaces collapsed."""
    raw = (require_built_site() / relative).read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", "", raw))
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize(("page", "phrase"), LECTURE_CONCEPTS)
def test_lecture_concept_is_on_its_page(page: str, phrase: str) -> None:
    """Each concept and example of the lecture notes appears on the page that teaches it."""
    assert phrase in page_text(page)


@pytest.mark.parametrize(
    ("page", "snippet"),
    [
        ("cell/index.html", "forward-f.md"),
        ("cell/index.html", "forward-h.md"),
        ("gates/forget/index.html", "forward-f.md"),
        ("gates/forget/index.html", "local-f.md"),
        ("gates/input/index.html", "forward-i.md"),
        ("gates/input/index.html", "forward-C_tilde.md"),
        ("gates/input/index.html", "forward-C.md"),
        ("gates/input/index.html", "local-i.md"),
        ("gates/input/index.html", "local-C_tilde.md"),
        ("gates/input/index.html", "local-C.md"),
        ("gates/output/index.html", "forward-o.md"),
        ("gates/output/index.html", "forward-h.md"),
        ("gates/output/index.html", "local-o.md"),
        ("gates/output/index.html", "local-h.md"),
    ],
)
def test_generated_equation_is_included(page: str, snippet: str) -> None:
    """The generated equation snippet's LaTeX is rendered into the page that includes it."""
    source = (REPO / "docs" / "snippets" / "lstm" / snippet).read_text(encoding="utf-8")
    blocks = re.findall(r"\$\$(.+?)\$\$", source, flags=re.S)
    assert blocks, f"{snippet} holds no $$ … $$ display"
    built = html.unescape((require_built_site() / page).read_text(encoding="utf-8"))
    for block in blocks:
        assert block.strip() in built


def test_notation_page_includes_the_generated_symbol_table() -> None:
    """Every row of the generated symbols table appears on the notation page."""
    source = (REPO / "docs" / "snippets" / "lstm" / "symbols.md").read_text(encoding="utf-8")
    names = re.findall(r"^\|.*?`([^`]+)`", source, flags=re.M)
    assert names, "symbols.md has no rows"
    text = page_text("notation/index.html")
    missing = [name for name in names if name not in text]
    assert not missing


def test_kernels_page_shows_the_committed_generated_source() -> None:
    """The kernels page contains the first line and every public function of lstm.py."""
    source = (REPO / "lstm_sym" / "kernels" / "lstm.py").read_text(encoding="utf-8")
    text = page_text("kernels/index.html")
    assert source.splitlines()[0].lstrip("# ").strip() in text
    for name in re.findall(r"^def ([a-z]\w*)\(", source, flags=re.M):
        assert f"def {name}(" in text


def test_kernels_page_has_an_api_reference() -> None:
    """mkdocstrings renders the generated module's public functions into the kernels page."""
    built = (require_built_site() / "kernels" / "index.html").read_text(encoding="utf-8")
    for name in ("forward", "backward", "step", "init_params"):
        assert f'id="lstm_sym.kernels.lstm.{name}"' in built


def test_cell_page_embeds_the_generated_figures() -> None:
    """The cell page shows the activation plots and the cell diagram, both shipped in the site."""
    site = require_built_site()
    built = (site / "cell" / "index.html").read_text(encoding="utf-8")
    for name in ("activations.svg", "lstm-cell.svg"):
        assert f"assets/generated/{name}" in built
        assert (site / "assets" / "generated" / name).is_file()


def _run_example(name: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, str(REPO / "docs" / "examples" / name)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_kernel_usage_example_runs() -> None:
    """The NumPy usage example shown on the kernels page runs and its assertions hold."""
    result = _run_example("kernel_usage.py")
    assert result.returncode == 0, result.stderr


def test_torch_interop_example_runs() -> None:
    """The PyTorch interop example shown on the kernels page runs and matches torch."""
    result = _run_example("torch_interop.py")
    assert result.returncode == 0, result.stderr


def test_examples_are_included_verbatim() -> None:
    """The kernels page shows the example files exactly as they are tested."""
    text = page_text("kernels/index.html")
    for name in ("kernel_usage.py", "torch_interop.py"):
        source = (REPO / "docs" / "examples" / name).read_text(encoding="utf-8")
        assert re.sub(r"\s+", " ", source).strip() in text


def test_site_sources_are_not_generated_pages() -> None:
    """Hand-written pages never hold the verification report; it exists only in the build."""
    for path in Path(REPO / "docs").rglob("*.md"):
        assert "Finite differences must stay below" not in path.read_text(encoding="utf-8")


def test_performance_page_shows_the_committed_benchmark() -> None:
    """The built Performance page carries the committed results: every cell and size, the
    tooling times and the machine."""
    import json

    page = (require_built_site() / "performance" / "index.html").read_text(encoding="utf-8")
    data = json.loads((REPO / "benchmarks" / "results" / "kernels.json").read_text())
    for record in data["records"]:
        size = record["size"]
        assert f"({size['T']}, {size['B']}, {size['D']}, {size['H']})" in page
        assert f"<code>{record.get('cell', 'lstm')}</code>" in page
    for command in data.get("tooling", {}):
        assert command in page
    assert data["machine"]["numpy"] in page
    assert "lstm-sym:performance-report" not in page
