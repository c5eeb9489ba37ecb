"""Render the committed benchmark results (``benchmarks/results/kernels.json``) as Markdown.

The Performance page holds a marker line; the build replaces it with the tables and the bar
chart made here, so the page always shows exactly the committed measurement.
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

_COLUMNS = (
    ("gen_fb/base_fb", "fwd+bwd ÷ hand-written"),
    ("gen_fb/torch_train", "fwd+bwd ÷ torch training"),
    ("gen_fwd/torch_inf", "fwd ÷ torch inference"),
    ("gemm_fraction_fb", "GEMM-bound fraction"),
    ("peak_memory_ratio", "peak memory ÷ needed"),
)


def _size_text(size: Mapping[str, int]) -> str:
    return f"({size['T']}, {size['B']}, {size['D']}, {size['H']})"


def _ratio(value: float | None, key: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0%}" if key == "gemm_fraction_fb" else f"{value:.2f}×"


def _bar_chart(records: Sequence[Mapping[str, Any]]) -> str:
    """An inline SVG: fwd+bwd time relative to the baseline and to torch, per case."""
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
        for offset, (key, colour) in enumerate(
            (("gen_fb/base_fb", "#3949ab"), ("gen_fb/torch_train", "#ef6c00"))
        ):
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
    lines.append(f'<rect x="{left}" y="{bottom - 9}" width="10" height="10" fill="#3949ab"/>')
    lines.append(f'<text x="{left + 14}" y="{bottom}">÷ hand-written NumPy</text>')
    lines.append(f'<rect x="{left + 170}" y="{bottom - 9}" width="10" height="10" fill="#ef6c00"/>')
    lines.append(f'<text x="{left + 184}" y="{bottom}">÷ torch training</text>')
    lines.append("</svg>")
    return "\n".join(lines)


def render_markdown(path: Path) -> str:
    """Return the Markdown report of the benchmark results at ``path``.

    Raises
    ------
    FileNotFoundError
        If there are no results (run ``python benchmarks/bench_kernels.py --json``).
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    records = [r for r in data["records"] if r["kernel"] == "gen"]
    machine = data["machine"]
    out = [
        "### Measured ratios (generated `lstm` kernel)",
        "",
        "| dtype | (T, B, D, H) | fwd+bwd ms | " + " | ".join(t for _, t in _COLUMNS) + " |",
        "|---|---|---:|" + "---:|" * len(_COLUMNS),
    ]
    for record in records:
        timings = record["timings_s"]
        cells = [_ratio(record["ratios"].get(key), key) for key, _ in _COLUMNS]
        out.append(
            f"| {record['dtype']} | {_size_text(record['size'])} | "
            f"{timings['gen:fb']['median'] * 1e3:.1f} | " + " | ".join(cells) + " |"
        )
    out += ["", _bar_chart(records), "", "### Targets", ""]
    out += ["| dtype | (T, B, D, H) | target | met |", "|---|---|---|---|"]
    for record in records:
        for target, met in record["targets"].items():
            out.append(
                f"| {record['dtype']} | {_size_text(record['size'])} | `{target}` | "
                f"{'yes' if met else '**no**'} |"
            )
    out += [
        "",
        "### Machine",
        "",
        f"- CPU: {machine.get('cpu_model', '?')}, {machine.get('usable_cores', '?')} usable cores"
        f", {data.get('repeats', '?')} timed repeats (median), "
        f"{machine.get('benchmark_threads', '?')} threads for NumPy's BLAS and torch",
        f"- Python {machine.get('python', '?')}, NumPy {machine.get('numpy', '?')} "
        f"(BLAS: {machine.get('numpy_blas', {}).get('openblas configuration', '?')}), "
        f"torch {machine.get('torch', 'not installed')}",
        f"- Environment: `{machine.get('env', {})}`",
    ]
    return "\n".join(out) + "\n"
