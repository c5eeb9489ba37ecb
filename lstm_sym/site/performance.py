"""Render the committed benchmark results (``benchmarks/results/kernels.json``) as Markdown.

The Performance page holds a marker line; the build replaces it with the tables and the bar
charts made here, so the page always shows exactly the committed measurement: one section per
cell (``lstm`` first, with its targets), the profile of each case, the tooling times and the
machine.

Results written before the benchmark covered several cells (``lstm`` only, no profile, no
torch reference, no tooling) render too: what they lack is shown as not measured.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["MARKER", "RESULTS", "render_markdown"]

#: The line of ``docs/performance.md`` that the report replaces.
MARKER = "<!-- lstm-sym:performance-report -->"
#: Where ``python benchmarks/bench_kernels.py --json`` writes its results.
RESULTS = Path("benchmarks") / "results" / "kernels.json"

#: The cell the hand-written baseline and the targets belong to; shown first.
_TARGET_CELL = "lstm"

_COLUMNS = (
    ("gen_fb/base_fb", "fwd+bwd ÷ hand-written"),
    ("gen_fb/torch_train", "fwd+bwd ÷ torch training"),
    ("gen_fwd/torch_inf", "fwd ÷ torch inference"),
    ("gemm_fraction_fb", "GEMM-bound fraction"),
    ("peak_memory_ratio", "peak memory ÷ needed"),
)

#: The parts of the profile, with their labels, in table order.
_PROFILE_PARTS = (
    ("gemm", "GEMM"),
    ("overhead", "per-step overhead"),
    ("elementwise", "elementwise"),
)

#: What would move a case, by the part that bounds it.
_REMEDIES = {
    "gemm": (
        "the matrix products themselves: only a faster BLAS, a layout the BLAS prefers, or fewer "
        "floating-point operations moves it; the elementwise work is already small beside them"
    ),
    "overhead": (
        "Python's cost per NumPy call and per array view, paid at every step whatever the size; "
        "the generated steps already make as few calls as the hand-written kernel, so only larger "
        "batches or a compiled step (Numba, C) amortise it further"
    ),
    "elementwise": (
        "the passes over memory per step; NumPy cannot fuse them, so fewer passes would take a "
        "compiled loop over the elements of a step"
    ),
}

#: Bar-chart series: ratio key, colour, legend.
_SERIES = (
    ("gen_fb/base_fb", "#3949ab", "÷ hand-written NumPy"),
    ("gen_fb/torch_train", "#ef6c00", "÷ torch training"),
)


def _size_text(size: Mapping[str, int]) -> str:
    return f"({size['T']}, {size['B']}, {size['D']}, {size['H']})"


def _ratio(value: float | None, key: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0%}" if key == "gemm_fraction_fb" else f"{value:.2f}×"


def _cell(record: Mapping[str, Any]) -> str:
    """The record's cell; results from before several cells were benchmarked are ``lstm``."""
    return str(record.get("cell", _TARGET_CELL))


def _targets_apply(record: Mapping[str, Any]) -> bool:
    return bool(record.get("targets_apply", _cell(record) == _TARGET_CELL))


def _torch_reference(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The torch module the record was timed against, None when torch was not timed.

    Older results do not name it: their only cell, ``lstm``, was timed against ``nn.LSTM``.
    """
    if "torch:fb" not in record["timings_s"]:
        return None
    reference = record.get("torch_reference")
    if reference is None and _cell(record) == _TARGET_CELL:
        return {"module": "nn.LSTM", "exact": True, "note": "the same function"}
    return reference


def _reference_text(records: Sequence[Mapping[str, Any]]) -> str:
    references = {
        json.dumps(ref, sort_keys=True): ref
        for ref in (_torch_reference(record) for record in records)
        if ref is not None
    }
    if not references:
        return "Torch reference: not measured (torch was not importable or `--no-torch`)."
    texts = []
    for ref in references.values():
        kind = "the same function" if ref.get("exact") else "the nearest torch cell"
        note = str(ref.get("note", "")).removeprefix("nearest: ")
        detail = f" — {note}" if note and note != kind else ""
        texts.append(f"`torch.{ref['module']}`, {kind}{detail}")
    return "Torch reference: " + "; ".join(texts) + "."


def _bar_chart(records: Sequence[Mapping[str, Any]]) -> str:
    """An inline SVG: fwd+bwd time relative to the baseline and to torch, per case."""
    series = [s for s in _SERIES if any(s[0] in r["ratios"] for r in records)]
    width, row, left = 640, 34, 230
    scale = (width - left - 20) / 2.0  # bars up to 2×
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{row * len(records) + 40}" font-family="sans-serif" font-size="12" '
        'role="img" aria-label="fwd+bwd time ratios">'
    ]
    for index, record in enumerate(records):
        y = 20 + index * row
        label = f"{record['dtype']} {_size_text(record['size'])}"
        lines.append(f'<text x="4" y="{y + 14}">{label}</text>')
        for offset, (key, colour, _) in enumerate(series):
            value = record["ratios"].get(key)
            if value is None:
                continue
            bar = min(value, 2.0) * scale
            lines.append(
                f'<rect x="{left}" y="{y + offset * 13}" width="{bar:.1f}" height="11" '
                f'fill="{colour}"><title>{key} = {value:.2f}</title></rect>'
            )
    one = left + scale
    lines.append(
        f'<line x1="{one:.1f}" y1="10" x2="{one:.1f}" y2="{20 + row * len(records)}" '
        'stroke="#263238" stroke-dasharray="4 3"/>'
    )
    lines.append(f'<text x="{one + 4:.1f}" y="12">1× (equal time)</text>')
    bottom = 34 + row * len(records)
    for index, (_, colour, legend) in enumerate(series):
        x = left + 170 * index
        lines.append(f'<rect x="{x}" y="{bottom - 9}" width="10" height="10" fill="{colour}"/>')
        lines.append(f'<text x="{x + 14}" y="{bottom}">{legend}</text>')
    lines.append("</svg>")
    # The chart keeps its size on phones and scrolls sideways in its own box (extra.css).
    lines[0] = '<div class="lstm-scroll">' + lines[0]
    lines[-1] += "</div>"
    return "\n".join(lines)


def _ratio_table(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Timing and ratios per case; a column only where some case has the ratio."""
    columns = [(k, t) for k, t in _COLUMNS if any(k in r["ratios"] for r in records)]
    out = [
        "| dtype | (T, B, D, H) | fwd+bwd ms | " + " | ".join(t for _, t in columns) + " |",
        "|---|---|---:|" + "---:|" * len(columns),
    ]
    for record in records:
        cells = [_ratio(record["ratios"].get(key), key) for key, _ in columns]
        out.append(
            f"| {record['dtype']} | {_size_text(record['size'])} | "
            f"{record['timings_s']['gen:fb']['median'] * 1e3:.1f} | " + " | ".join(cells) + " |"
        )
    return out


def _profile_table(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Share and time of each profile part per case (or a line saying it was not measured)."""
    if not any("profile" in r for r in records):
        return ["*Profile: not measured in these results (they predate it).*"]
    out = [
        "**Profile of fwd+bwd** — share of the time (ms):",
        "",
        "| dtype | (T, B, D, H) | "
        + " | ".join(label for _, label in _PROFILE_PARTS)
        + " | bound by |",
        "|---|---|" + "---:|" * len(_PROFILE_PARTS) + "---|",
    ]
    labels = dict(_PROFILE_PARTS)
    for record in records:
        profile = record.get("profile")
        if not profile:
            parts = ["n/a"] * (len(_PROFILE_PARTS) + 1)
        else:
            parts = []
            for key, _ in _PROFILE_PARTS:
                text = f"{profile['fractions'][key]:.0%} ({profile['seconds'][key] * 1e3:.2f})"
                parts.append(f"**{text}**" if key == profile["bound_by"] else text)
            parts.append(labels.get(profile["bound_by"], str(profile["bound_by"])))
        out.append(
            f"| {record['dtype']} | {_size_text(record['size'])} | " + " | ".join(parts) + " |"
        )
    return out


def _targets_table(records: Sequence[Mapping[str, Any]]) -> list[str]:
    out = ["| dtype | (T, B, D, H) | target | met |", "|---|---|---|---|"]
    for record in records:
        for target, met in record["targets"].items():
            out.append(
                f"| {record['dtype']} | {_size_text(record['size'])} | `{target}` | "
                f"{'yes' if met else '**no**'} |"
            )
    return out


def _cell_section(cell: str, records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Heading, torch reference, ratio table, bar chart, profile and (``lstm``) targets."""
    targets = any(_targets_apply(r) for r in records)
    out = [f"### `{cell}`", "", _reference_text(records)]
    if targets:
        out[-1] += " The targets of issue #7 apply to this cell."
    else:
        out[-1] += " No hand-written baseline and no targets: the ratios are for information only."
    out += ["", *_ratio_table(records), "", _bar_chart(records), "", *_profile_table(records)]
    if targets:
        out += ["", f"**Targets (`{cell}`)**", "", *_targets_table(records)]
    return out


def _remedies(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """What would move the cases, for each part that bounds at least one of them."""
    bounds = {str(r["profile"]["bound_by"]) for r in records if r.get("profile")}
    if not bounds:
        return []
    out = [
        "### What bounds each case",
        "",
        "The part in bold in each profile bounds that case; what would move it:",
        "",
    ]
    for key, label in _PROFILE_PARTS:
        if key in bounds:
            out.append(f"- **{label}**: {_REMEDIES[key]}.")
    return out


def _tooling(data: Mapping[str, Any]) -> list[str]:
    tooling = data.get("tooling")
    out = ["### Tooling", ""]
    if not tooling:
        return [*out, "Not measured in these results (`bench_kernels.py --tooling`)."]
    out += ["| command | wall time | exit status |", "|---|---:|---:|"]
    for name, result in tooling.items():
        command = result.get("command", name)
        out.append(f"| `{command}` | {result['seconds']:.1f} s | {result.get('returncode', '?')} |")
    out += [
        "",
        "One run each, as a subprocess, writing into a temporary folder; the wall time "
        "includes starting Python.",
    ]
    return out


def _machine(data: Mapping[str, Any]) -> list[str]:
    machine = data["machine"]
    blas = machine.get("numpy_blas")
    if isinstance(blas, Mapping):
        blas_text = blas.get("openblas configuration") or blas.get("name") or "?"
    else:
        blas_text = blas or "?"
    return [
        "### Machine",
        "",
        f"- CPU: {machine.get('cpu_model', '?')}, {machine.get('usable_cores', '?')} usable cores"
        f", {data.get('repeats', '?')} timed repeats (median), "
        f"{machine.get('benchmark_threads', '?')} threads for NumPy's BLAS and torch",
        f"- Python {machine.get('python', '?')}, NumPy {machine.get('numpy', '?')} "
        f"(BLAS: {blas_text}), torch {machine.get('torch') or 'not installed'}",
        f"- Environment: `{machine.get('env', {})}`",
    ]


def _by_cell(records: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """The committed kernels' records (``gen``) grouped by cell, ``lstm`` first."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        if record["kernel"] == "gen":
            groups.setdefault(_cell(record), []).append(record)
    order = sorted(groups, key=lambda cell: cell != _TARGET_CELL)
    return {cell: groups[cell] for cell in order}


def render_markdown(path: Path) -> str:
    """Return the Markdown report of the benchmark results at ``path``.

    Raises
    ------
    FileNotFoundError
        If there are no results (run ``python benchmarks/bench_kernels.py --json``).
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    groups = _by_cell(data["records"])
    out: list[str] = []
    for cell, records in groups.items():
        out += [*_cell_section(cell, records), ""]
    all_records = [r for records in groups.values() for r in records]
    remedies = _remedies(all_records)
    if remedies:
        out += [*remedies, ""]
    out += [*_tooling(data), "", *_machine(data)]
    return "\n".join(out) + "\n"
