"""Cell diagrams in colah's conventions, laid out from a cell spec's roles.

The layout reads the spec, not a hand-drawn picture:

- the **carried state** whose update reads its own previous value elementwise (``C`` in the
  LSTM, ``h`` in the GRU) runs as a straight line through the top of the cell; the pointwise
  operations of its update (×, +) sit on that line as small circles;
- every **layer** — σ or tanh of one linear map, optionally plus peephole terms — is a
  coloured box in the row below, fed from the bus ``[h_{t-1}, x_t]`` that runs along the
  bottom;
- every other pointwise operation (the ``tanh`` and ``×`` of ``h = o ⊙ tanh(C)``, ``1 −``)
  is a circle in the row between;
- a linear map that does not feed a layer (NIAF's candidate, the GRU-torch's split maps) is
  a box of its own: the graceful fallback for unusual cells.

Edges are routed orthogonally. Every candidate route is tested against every node it does not
connect, so **no edge passes through a box or circle**; :func:`layout_cell` raises if it
cannot route an edge (the tests run it on every built-in cell).
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sympy

__all__ = [
    "Edge",
    "Layout",
    "Node",
    "cell_diagram",
    "layout_cell",
    "segment_hits_node",
]

#: One colour per layer, in the order the layers appear; greys for everything else.
PALETTE = ("#d32f2f", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457")
#: Fixed colours for the lecture's gates, so a gate looks the same in every cell's diagram.
GATE_COLOURS = {
    "f": "#d32f2f",
    "i": "#1565c0",
    "C_tilde": "#2e7d32",
    "o": "#ef6c00",
    "z": "#6a1b9a",
    "r": "#00838f",
    "h_tilde": "#2e7d32",
    "n": "#2e7d32",
}
LINE = "#263238"
MUTED = "#b0bec5"

# Geometry (SVG user units = CSS px at 100 %).
COL_W = 96.0
MARGIN_X = 70.0
BOX_W, BOX_H = 76.0, 46.0
OP_R = 16.0
ROW_Y = {0: 64.0, 1: 150.0, 2: 240.0, 3: 312.0, 4: 352.0}
CHANNELS = (108.0, 196.0, 30.0, 120.0, 184.0, 96.0, 208.0, 22.0)


@dataclass
class Node:
    """A drawn element: ``box`` (layer), ``op`` (pointwise circle), ``port`` or ``dot``."""

    key: str
    kind: str
    label: str
    row: int
    col: int = 0
    sub: str = ""
    group: str = ""
    x: float = 0.0
    y: float = 0.0

    @property
    def half(self) -> tuple[float, float]:
        """Half width and half height of the node's keep-out rectangle."""
        if self.kind == "box":
            return BOX_W / 2, BOX_H / 2
        if self.kind == "op":
            return OP_R, OP_R
        return 0.0, 0.0


@dataclass
class Edge:
    """A routed connection; ``points`` is the orthogonal polyline, clipped to the nodes."""

    src: str
    dst: str
    label: str = ""
    group: str = ""
    points: list[tuple[float, float]] = field(default_factory=list)
    arrow: bool = True


@dataclass
class Layout:
    """Everything :func:`cell_diagram` draws, in SVG coordinates."""

    title: str
    nodes: dict[str, Node]
    edges: list[Edge]
    width: float
    height: float
    groups: list[str]
    bus: list[tuple[float, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _t(name: str) -> str:
    """A spec name as the lecture writes it: ``h_prev`` → ``h_{t-1}``, ``C_tilde`` → ``C̃_t``."""
    if name.endswith("_prev"):
        stem = _base(name[: -len("_prev")])
        return f"{stem}_{{t-1}}" if "_" not in stem else stem
    stem = _base(name)
    return f"{stem}_t" if "_" not in stem else stem


def _base(name: str) -> str:
    if name.endswith("_tilde"):
        return name[: -len("_tilde")] + "\u0303"
    return name


def _fn(expr: sympy.Expr) -> str:
    return type(expr).__name__


class _Builder:
    """Turn a spec into nodes and connections (no coordinates yet)."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.params = set(spec.parameter_names)
        self.linear = {m.target: m for m in spec.linear_maps}
        self.nodes: dict[str, Node] = {}
        self.order: list[str] = []
        self.conns: list[Edge] = []
        self.producer: dict[str, str] = {}
        self.consumed: set[str] = set()
        self.groups: list[str] = []
        self.taps: list[tuple[str, str]] = []
        self.line_state = self._line_state()
        counts: dict[tuple[str, ...], int] = {}
        for m in spec.linear_maps:
            counts[m.operands] = counts.get(m.operands, 0) + 1
        self.bus = max(counts, key=lambda ops: (counts[ops], len(ops))) if counts else ()
        self._n = 0

    def _line_state(self) -> str | None:
        for eq in self.spec.equations:
            if eq.target in self.spec.state_names and hasattr(eq, "expr"):
                names = {s.name for s in eq.expr.free_symbols}
                if f"{eq.target}_prev" in names:
                    return str(eq.target)
        return None

    def add(self, node: Node) -> Node:
        self.nodes[node.key] = node
        self.order.append(node.key)
        return node

    def fresh(self, stem: str) -> str:
        self._n += 1
        return f"{stem}#{self._n}"

    def source(self, name: str) -> str:
        """The node that produces value ``name`` (creating ports and linear boxes lazily)."""
        if name in self.producer:
            return self.producer[name]
        if name in self.linear:
            return self.linear_box(name, None)
        if name.endswith("_prev") or name == self.spec.input_name:
            key = f"in:{name}"
            row = 0 if name == f"{self.line_state}_prev" else 4
            self.add(Node(key, "port", _t(name), row))
            self.producer[name] = key
            return key
        raise ValueError(f"cell diagram: {name!r} is read before it is defined")

    def linear_box(self, name: str, activation: str | None, target: str | None = None) -> str:
        m = self.linear[name]
        self.consumed.add(name)
        group = target or name
        self.groups.append(group)
        sub = m.weight + (f", {m.bias}" if m.bias else "")
        label = {"sigmoid": "σ", "tanh": "tanh"}.get(activation or "", "W·")
        key = f"box:{group}"
        self.add(Node(key, "box", label, 2, sub=sub, group=group))
        on_bus = [op for op in m.operands if op in self.bus]
        if on_bus:
            tap = "" if tuple(on_bus) == self.bus else ", ".join(_t(op) for op in on_bus)
            self.taps.append((key, tap))
        for op in m.operands:
            if op not in self.bus:
                self.conns.append(Edge(self.source(op), key, _t(op), self.group_of(op)))
        self.producer[group] = key
        return key

    def group_of(self, name: str) -> str:
        key = self.producer.get(name, "")
        node = self.nodes.get(key)
        return node.group if node else ""

    def layer_parts(self, expr: sympy.Expr) -> tuple[str, list[tuple[str, str]]] | None:
        """``σ(a + p ⊙ c)`` → (``a``, [(``c``, ``p``)]) when ``expr`` is a layer, else None."""
        if _fn(expr) not in {"sigmoid", "tanh"}:
            return None
        terms = sympy.Add.make_args(expr.args[0])
        maps = [t for t in terms if isinstance(t, sympy.Symbol) and t.name in self.linear]
        if len(maps) != 1 or maps[0].name in self.consumed:
            return None
        extra: list[tuple[str, str]] = []
        for term in terms:
            if term is maps[0]:
                continue
            factors = sympy.Mul.make_args(term)
            names = [f.name for f in factors if isinstance(f, sympy.Symbol)]
            weights = [n for n in names if n in self.params]
            values = [n for n in names if n not in self.params]
            if len(values) != 1 or len(names) != len(factors):
                return None
            extra.append((values[0], "·".join(weights)))
        return maps[0].name, extra

    def equation(self, target: str, expr: sympy.Expr) -> None:
        parts = self.layer_parts(expr)
        if parts is not None:
            name, extra = parts
            key = self.linear_box(name, _fn(expr), target)
            for value, weight in extra:
                self.conns.append(Edge(self.source(value), key, weight, self.group_of(value)))
            return
        on_line = target == self.line_state
        self.producer[target] = self.op_tree(expr, on_line, target)

    def op_tree(self, expr: sympy.Expr, on_line: bool, target: str = "") -> str:
        """Create the op nodes of ``expr`` bottom-up; return the key of its root."""
        if isinstance(expr, sympy.Symbol):
            return self.source(expr.name)
        line_prev = f"{self.line_state}_prev"
        here = on_line and line_prev in {s.name for s in expr.free_symbols}
        row = 0 if here else 1
        label: str
        args: list[sympy.Expr]
        if isinstance(expr, sympy.Add):
            args = sorted(
                sympy.Add.make_args(expr),
                key=lambda a: (line_prev not in {s.name for s in a.free_symbols}, str(a)),
            )
            numbers = [a for a in args if a.is_number]
            rest = [a for a in args if not a.is_number]
            if (
                numbers == [sympy.Integer(1)]
                and len(rest) == 1
                and rest[0].could_extract_minus_sign()
            ):
                label, args = "1−", [-rest[0]]
            else:
                label, args = "+", args
        elif isinstance(expr, sympy.Mul):
            args = sorted(
                sympy.Mul.make_args(expr),
                key=lambda a: (line_prev not in {s.name for s in a.free_symbols}, str(a)),
            )
            if args[0] == -1:
                label, args = "−", args[1:]
            else:
                label = "×"
            if len(args) == 1 and label == "×":
                return self.op_tree(args[0], on_line)
        elif _fn(expr) in {"tanh", "sigmoid"}:
            label, args = {"tanh": "tanh", "sigmoid": "σ"}[_fn(expr)], list(expr.args)
        else:
            label, args = _fn(expr), list(expr.args)
        inputs = [self.op_tree(a, on_line) for a in args if not a.is_number]
        key = self.fresh(f"op:{target or label}")
        node = self.add(Node(key, "op", label, row))
        for src in inputs:
            group = self.nodes[src].group if self.nodes[src].kind == "box" else ""
            value = next((v for v, k in self.producer.items() if k == src), "")
            kind = self.nodes[src].kind
            named = kind == "box" or (kind == "op" and value not in self.spec.state_names)
            shown = _t(value) if value and named else ""
            self.conns.append(Edge(src, key, shown, group))
        node.group = ""
        return key


def _place(builder: _Builder) -> None:
    """Give every node a column: a node sits above its last-placed operand when it can."""
    nodes = builder.nodes
    occupied: dict[tuple[int, int], str] = {}
    consumers: dict[str, int] = {}
    for edge in builder.conns:
        consumers[edge.src] = consumers.get(edge.src, 0) + 1
    inputs_of: dict[str, list[str]] = {}
    for edge in builder.conns:
        inputs_of.setdefault(edge.dst, []).append(edge.src)
    next_col = 1
    ports_below: list[str] = []
    deferred: list[str] = []

    def stackable(key: str) -> bool:
        """A box read by exactly one op above it waits for that op (to sit right below it)."""
        node = nodes[key]
        readers = [e.dst for e in builder.conns if e.src == key]
        return (
            node.kind == "box"
            and len(readers) == 1
            and readers[0] in nodes
            and nodes[readers[0]].kind == "op"
            and nodes[readers[0]].row < node.row
        )

    def new_column(key: str) -> int:
        nonlocal next_col
        col = next_col
        next_col += 1
        nodes[key].col = col
        occupied[(col, nodes[key].row)] = key
        return col

    for key in builder.order:
        node = nodes[key]
        if node.kind == "port":
            if node.row == 0:
                node.col = 0
            else:
                ports_below.append(key)
            continue
        if stackable(key):
            deferred.append(key)
            continue
        col = None
        if node.kind == "op":
            waiting = [k for k in inputs_of.get(key, []) if k in deferred]
            waiting.sort(key=builder.order.index)
            for k in waiting[:-1]:
                deferred.remove(k)
                new_column(k)
            if waiting:
                deferred.remove(waiting[-1])
                col = new_column(waiting[-1])
            else:
                for src in reversed(inputs_of.get(key, [])):
                    other = nodes[src]
                    if other.kind == "port" or consumers.get(src, 0) != 1:
                        continue
                    if other.row <= node.row:
                        continue
                    if all((other.col, r) not in occupied for r in range(node.row, other.row)):
                        col = other.col
                        break
        if col is None:
            new_column(key)
        else:
            node.col = col
            occupied[(col, node.row)] = key
    for key in deferred:
        new_column(key)
    # Inputs that join the bus: the output state first (from the left), the rest from below.
    output_prev = f"in:{builder.spec.output_state}_prev"
    for key in ports_below:
        node = nodes[key]
        if key == output_prev and builder.line_state != builder.spec.output_state:
            node.col, node.row = 0, 3
    below = [k for k in ports_below if nodes[k].row == 4]
    # Ports below the bus sit in the gaps left of the first box.
    for index, port in enumerate(below):
        nodes[port].col = 0
        nodes[port].x = MARGIN_X + 20.0 + 44.0 * index
    last = max((n.col for n in nodes.values()), default=0)
    for node in nodes.values():
        if node.kind == "port" and node.row == 4:
            node.y = ROW_Y[4]
            continue
        node.x = MARGIN_X + 40.0 + node.col * COL_W if node.col else MARGIN_X
        node.y = ROW_Y[node.row]
    builder.last_col = last  # type: ignore[attr-defined]


def segment_hits_node(
    a: tuple[float, float], b: tuple[float, float], node: Node, pad: float = 3.0
) -> bool:
    """Whether the axis-parallel segment ``a``–``b`` enters ``node``'s keep-out rectangle."""
    hw, hh = node.half
    if hw == 0 and hh == 0:
        return False
    x0, x1 = sorted((a[0], b[0]))
    y0, y1 = sorted((a[1], b[1]))
    return not (
        x1 < node.x - hw - pad
        or x0 > node.x + hw + pad
        or y1 < node.y - hh - pad
        or y0 > node.y + hh + pad
    )


def _overlaps(p: list[tuple[float, float]], q: list[tuple[float, float]]) -> bool:
    """Whether two polylines share a collinear stretch longer than a few units."""
    for a, b in itertools.pairwise(p):
        for c, d in itertools.pairwise(q):
            if a[1] == b[1] == c[1] == d[1]:
                lo = max(min(a[0], b[0]), min(c[0], d[0]))
                hi = min(max(a[0], b[0]), max(c[0], d[0]))
                if hi - lo > 4:
                    return True
            if a[0] == b[0] == c[0] == d[0]:
                lo = max(min(a[1], b[1]), min(c[1], d[1]))
                hi = min(max(a[1], b[1]), max(c[1], d[1]))
                if hi - lo > 4:
                    return True
    return False


def _simplify(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for p in points:
        if out and abs(out[-1][0] - p[0]) < 1e-9 and abs(out[-1][1] - p[1]) < 1e-9:
            continue
        out.append(p)
    k = 1
    while k + 1 < len(out):
        a, b, c = out[k - 1], out[k], out[k + 1]
        if (a[0] == b[0] == c[0]) or (a[1] == b[1] == c[1]):
            del out[k]
        else:
            k += 1
    return out


def _candidates(src: Node, dst: Node) -> Iterable[list[tuple[float, float]]]:
    sx, sy, tx, ty = src.x, src.y, dst.x, dst.y
    if abs(sx - tx) < 1e-9 or abs(sy - ty) < 1e-9:
        yield [(sx, sy), (tx, ty)]
    yield [(sx, sy), (sx, ty), (tx, ty)]
    yield [(sx, sy), (tx, sy), (tx, ty)]
    s_offsets = (0.0, -BOX_W / 4, BOX_W / 4) if src.kind == "box" else (0.0,)
    t_offsets: tuple[float, ...] = (0.0,)
    if dst.kind == "box":
        # A side input (peephole, reset) enters off-centre; the centre is the box's own output.
        t_offsets = (-BOX_W / 4, BOX_W / 4) if src.kind != "box" else (0.0, -BOX_W / 4, BOX_W / 4)
    for yc in sorted(CHANNELS, key=lambda c: abs(c - (sy + ty) / 2)):
        for so in s_offsets:
            for to in t_offsets:
                yield [(sx + so, sy), (sx + so, yc), (tx + to, yc), (tx + to, ty)]
    if src.kind == "op":
        for d in (COL_W / 2, -COL_W / 2, COL_W, 1.5 * COL_W):
            for yc in sorted(CHANNELS, key=lambda c: abs(c - (sy + ty) / 2)):
                for to in t_offsets:
                    yield [(sx, sy), (sx + d, sy), (sx + d, yc), (tx + to, yc), (tx + to, ty)]
            for to in t_offsets:
                yield [(sx, sy), (sx + d, sy), (sx + d, ty), (tx + to, ty)]
    if dst.kind == "box":
        for so in s_offsets:
            for to in (-BOX_W / 2, BOX_W / 2):
                yield [(sx + so, sy), (sx + so, ty), (tx + to, ty)]


def _clip(points: list[tuple[float, float]], node: Node, at_start: bool) -> None:
    """Move the end of ``points`` inside ``node`` to its boundary."""
    hw, hh = node.half
    if hw == 0 and hh == 0:
        return
    i, j = (0, 1) if at_start else (-1, -2)
    (x, y), (px, py) = points[i], points[j]
    if node.kind == "op":
        dx, dy = px - node.x, py - node.y
        if abs(dx) > abs(dy):
            points[i] = (node.x + OP_R * (1 if dx > 0 else -1), y)
        else:
            points[i] = (x, node.y + OP_R * (1 if dy > 0 else -1))
        return
    if abs(px - x) > abs(py - y):
        points[i] = (node.x + hw * (1 if px > x else -1), y)
    else:
        points[i] = (x, node.y + hh * (1 if py > y else -1))


def _route(layout_nodes: dict[str, Node], edges: list[Edge]) -> None:
    placed: list[tuple[str, list[tuple[float, float]]]] = []
    # The main flow first (into circles and out of the cell), side inputs of boxes last.
    order = sorted(
        edges, key=lambda e: layout_nodes[e.dst].kind == "box" and not e.src.startswith("bus@")
    )
    for edge in order:
        src, dst = layout_nodes[edge.src], layout_nodes[edge.dst]
        others = [n for k, n in layout_nodes.items() if k not in {edge.src, edge.dst}]
        chosen = None
        for points in _candidates(src, dst):
            points = _simplify(points)
            segments = list(itertools.pairwise(points))
            if any(segment_hits_node(a, b, n) for a, b in segments for n in others):
                continue
            # Leave the source and enter the target from outside only.
            inner = segments[1:-1]
            if any(segment_hits_node(a, b, n, pad=-1) for a, b in inner for n in (src, dst)):
                continue
            if any(o != edge.src and _overlaps(points, q) for o, q in placed):
                continue
            chosen = points
            break
        if chosen is None:
            raise ValueError(f"cell diagram: cannot route {edge.src} → {edge.dst}")
        placed.append((edge.src, chosen))
        edge.points = list(chosen)
        _clip(edge.points, src, True)
        _clip(edge.points, dst, False)


def layout_cell(spec: Any) -> Layout:
    """Lay out one step of ``spec`` (a :class:`lstm_sym.spec.CellSpec`).

    Returns
    -------
    Layout
        Nodes with coordinates, orthogonally routed edges that pass through no node other than
        their own ends, the bus polyline and the figure size.

    Raises
    ------
    ValueError
        If an equation reads an undefined value or an edge cannot be routed.
    """
    b = _Builder(spec)
    for eq in spec.equations:
        if hasattr(eq, "expr"):
            b.equation(eq.target, eq.expr)
    for name in spec.linear_maps:
        if name.target not in b.consumed:
            b.linear_box(name.target, None)
    for operand in b.bus:
        b.source(operand)
    # Outputs: the carried line state on the top row, the output state level with its producer.
    outputs: list[tuple[str, str]] = []
    if b.line_state:
        outputs.append((b.line_state, "out:" + b.line_state))
    if spec.output_state != b.line_state:
        outputs.append((spec.output_state, "out:" + spec.output_state))
    notes = [_t(s) for s in spec.state_names if s not in {spec.output_state, b.line_state}]
    _place(b)
    last = max(n.col for n in b.nodes.values())
    out_x = MARGIN_X + 40.0 + (last + 1) * COL_W - 20.0
    for state, key in outputs:
        src = b.nodes[b.producer[state]]
        node = b.add(Node(key, "port", _t(state), src.row if state != b.line_state else 0))
        node.col, node.x, node.y = last + 1, out_x, ROW_Y[node.row]
        b.conns.append(Edge(src.key, key, "", src.group))
    # A line through the top: the carried state's own input port.
    edges = list(b.conns)
    width = out_x + MARGIN_X
    height = ROW_Y[4] + (56.0 if notes else 30.0)
    bus: list[tuple[float, float]] = []
    tap_nodes = [b.nodes[k] for k, _ in b.taps]
    if tap_nodes:
        bus_y = ROW_Y[3]
        right = max(n.x for n in tap_nodes)
        bus = [(MARGIN_X, bus_y), (right, bus_y)]
        for key, label in b.taps:
            edges.append(Edge("bus@" + key, key, label, b.nodes[key].group))
    nodes = dict(b.nodes)
    for key, _ in b.taps:
        tap = Node("bus@" + key, "dot", "", 3)
        tap.x, tap.y = nodes[key].x, ROW_Y[3]
        nodes[tap.key] = tap
    for node in nodes.values():
        if node.kind == "port" and node.row == 4:
            edges.append(Edge(node.key, "bus@", "", ""))
    line_prev = f"in:{b.line_state}_prev"
    if b.line_state and any(f"{b.line_state}_prev" == op for op in b.bus):
        edges.append(Edge(line_prev, "bus@", "", ""))
    # Ports below the bus join it with a short vertical.
    joins = [e for e in edges if e.dst == "bus@"]
    edges = [e for e in edges if e.dst != "bus@"]
    _route(nodes, edges)
    for e in joins:
        src = nodes[e.src]
        start = src.y - 8 if src.row == 4 else src.y
        e.points = [(src.x, start), (src.x, ROW_Y[3])]
        e.dst = ""
    edges += joins
    return Layout(
        spec.title, nodes, edges, width, height, list(dict.fromkeys(b.groups)), bus, notes
    )


def _esc(text: str) -> str:
    """Escape text for SVG and typeset ``x_t`` / ``h_{t-1}`` subscripts as lowered tspans."""
    parts = re.split(r"_(\{[^}]*\}|[A-Za-z0-9]+)", text)
    pieces = [html.escape(parts[0], quote=True)]
    for sub, rest in zip(parts[1::2], parts[2::2], strict=True):
        pieces.append(
            '<tspan baseline-shift="sub" font-size="75%">'
            f"{html.escape(sub.strip('{}'), quote=True)}</tspan>"
            f"{html.escape(rest, quote=True)}"
        )
    return "".join(pieces)


def _tint(colour: str, amount: float = 0.85) -> str:
    r, g, b = (int(colour[k : k + 2], 16) for k in (1, 3, 5))
    mix = [round(c + (255 - c) * amount) for c in (r, g, b)]
    return "#" + "".join(f"{c:02x}" for c in mix)


def cell_diagram(spec: Any, highlight: Iterable[str] = (), *, ident: str = "cell") -> str:
    """Draw one step of ``spec`` as an SVG document in colah's conventions.

    Parameters
    ----------
    spec
        A :class:`lstm_sym.spec.CellSpec`.
    highlight
        Layer names (``f``, ``C_tilde``) to show in colour; all others turn grey. Empty: every
        layer in its own colour.
    ident
        Prefix of the ids inside the SVG (several diagrams may share a page).

    Returns
    -------
    str
        The SVG text, deterministic.
    """
    layout = layout_cell(spec)
    chosen = set(highlight)
    spare = [c for c in PALETTE if c not in GATE_COLOURS.values()] + list(PALETTE)
    colour: dict[str, str] = {}
    for group in layout.groups:
        colour[group] = GATE_COLOURS.get(group) or spare[len(colour) % len(spare)]

    def paint(group: str) -> str:
        if chosen and group not in chosen:
            return MUTED
        return colour.get(group, LINE)

    used = sorted({paint(e.group) for e in layout.edges} | {LINE, MUTED})
    w, h = layout.width, layout.height
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
        f'viewBox="0 0 {w:.0f} {h:.0f}" font-family="DejaVu Sans, Arial, sans-serif" '
        f'font-size="15" role="img" aria-labelledby="{ident}-title">',
        f'<title id="{ident}-title">{html.escape(layout.title)}: one step</title>',
        "<defs>",
    ]
    for c in used:
        out.append(
            f'<marker id="{ident}-arrow-{c[1:]}" viewBox="0 0 10 10" refX="9" refY="5" '
            'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{c}"/></marker>'
        )
    out.append("</defs>")
    out.append(f'<rect x="0" y="0" width="{w:.0f}" height="{h:.0f}" fill="#ffffff"/>')
    cell_right = w - MARGIN_X + 10
    out.append(
        f'<rect x="{MARGIN_X - 14:.0f}" y="{ROW_Y[0] - 34:.0f}" '
        f'width="{cell_right - MARGIN_X + 14:.0f}" '
        f'height="{ROW_Y[3] - ROW_Y[0] + 56:.0f}" rx="14" fill="#f5f7fa" stroke="#cfd8dc"/>'
    )
    if layout.bus:
        (x0, y0), (x1, _y1) = layout.bus
        out.append(
            f'<path d="M {x0:.1f} {y0:.1f} H {x1:.1f}" stroke="{LINE}" stroke-width="2" '
            'fill="none"/>'
        )
    for edge in layout.edges:
        c = paint(edge.group)
        line_edge = edge.points and all(abs(p[1] - ROW_Y[0]) < 1e-6 for p in edge.points)
        width = 3.2 if line_edge else 2.0
        d = "M " + " L ".join(f"{x:.1f} {y:.1f}" for x, y in edge.points)
        marker = f' marker-end="url(#{ident}-arrow-{c[1:]})"' if edge.arrow else ""
        out.append(f'<path d="{d}" stroke="{c}" stroke-width="{width}" fill="none"{marker}/>')
    for key, node in layout.nodes.items():
        if node.kind == "dot" and key.startswith("bus@"):
            out.append(f'<circle cx="{node.x:.1f}" cy="{node.y:.1f}" r="3" fill="{LINE}"/>')
    seen: set[tuple[str, str]] = set()
    for edge in layout.edges:
        if not edge.label or len(edge.points) < 2 or (edge.src, edge.label) in seen:
            continue
        seen.add((edge.src, edge.label))
        (ax, ay), (bx, by) = edge.points[0], edge.points[1]
        if edge.dst.startswith("box:") and not edge.src.startswith("bus@"):
            (ax, ay), (bx, by) = edge.points[-2], edge.points[-1]
        c = paint(edge.group)
        if abs(ax - bx) < 1e-6:  # vertical first segment: label to its right
            y = (ay + by) / 2 + 5 if abs(ay - by) < 60 else ay + (12 if by > ay else -8)
            out.append(
                f'<text x="{ax + 5:.1f}" y="{y:.1f}" font-size="14" fill="{c}">'
                f"{_esc(edge.label)}</text>"
            )
        else:
            out.append(
                f'<text x="{(ax + bx) / 2:.1f}" y="{ay - 6:.1f}" text-anchor="middle" '
                f'font-size="14" fill="{c}">{_esc(edge.label)}</text>'
            )
    for node in layout.nodes.values():
        c = paint(node.group)
        if node.kind == "box":
            fill = "#eceff1" if chosen and node.group not in chosen else _tint(c)
            out.append(
                f'<rect x="{node.x - BOX_W / 2:.1f}" y="{node.y - BOX_H / 2:.1f}" '
                f'width="{BOX_W:.0f}" height="{BOX_H:.0f}" rx="5" fill="{fill}" stroke="{c}" '
                'stroke-width="2"/>'
            )
            out.append(
                f'<text x="{node.x:.1f}" y="{node.y - 2:.1f}" text-anchor="middle" '
                f'font-size="17" font-weight="bold" fill="{c}">{_esc(node.label)}</text>'
            )
            out.append(
                f'<text x="{node.x:.1f}" y="{node.y + 16:.1f}" text-anchor="middle" '
                f'font-size="12.5" fill="{LINE}">{_esc(node.sub)}</text>'
            )
        elif node.kind == "op":
            out.append(
                f'<circle cx="{node.x:.1f}" cy="{node.y:.1f}" r="{OP_R:.0f}" fill="#fff8e1" '
                f'stroke="{LINE}" stroke-width="1.6"/>'
            )
            size = 11 if len(node.label) > 2 else 17
            out.append(
                f'<text x="{node.x:.1f}" y="{node.y + size * 0.35:.1f}" text-anchor="middle" '
                f'font-size="{size}" fill="{LINE}">{_esc(node.label)}</text>'
            )
        elif node.kind == "port":
            if node.key.startswith("in:") and node.row == 4:
                out.append(
                    f'<text x="{node.x:.1f}" y="{node.y + 20:.1f}" text-anchor="middle" '
                    f'font-weight="bold" fill="{LINE}">{_esc(node.label)}</text>'
                )
            elif node.key.startswith("in:"):
                out.append(
                    f'<text x="{node.x - 6:.1f}" y="{node.y + 5:.1f}" text-anchor="end" '
                    f'font-weight="bold" fill="{LINE}">{_esc(node.label)}</text>'
                )
            else:
                out.append(
                    f'<text x="{node.x + 6:.1f}" y="{node.y + 5:.1f}" '
                    f'font-weight="bold" fill="{LINE}">{_esc(node.label)}</text>'
                )
    if layout.notes:
        note = ", ".join(layout.notes) + " are also carried to step t+1"
        out.append(
            f'<text x="{MARGIN_X:.1f}" y="{h - 6:.1f}" font-size="13" fill="{LINE}">'
            f"{_esc(note)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def unrolled_diagram(spec: Any, steps: int = 3) -> str:
    """Draw ``steps`` copies of a cell side by side: the forward flow and the backward flow.

    Forward (dark, solid): each step reads ``x_t`` and the states of the step before, and
    hands its states on; its output state feeds the step's loss ``ℓ_t``. Backward (red,
    dashed): every loss sends ``δ`` of the output state down into its step, and each step sends
    the adjoints of the states it read back to the step before.

    Parameters
    ----------
    spec
        A :class:`lstm_sym.spec.CellSpec`; its state names label the arrows.
    steps
        How many steps to draw (2 or 3 read best).

    Returns
    -------
    str
        A deterministic SVG document.
    """
    back = "#c62828"
    states = list(spec.state_names)
    output = spec.output_state
    box_w, box_h, gap = 130.0, max(110.0, 56.0 * len(states) + 8.0), 120.0
    left, top = 70.0, 90.0
    width = left * 2 + steps * box_w + (steps - 1) * gap + 40
    height = top + box_h + 110.0
    labels = ["t-1", "t", "t+1", "t+2"][:steps] if steps <= 4 else [str(k) for k in range(steps)]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans, Arial, sans-serif" '
        'font-size="15" role="img" aria-labelledby="unrolled-title">',
        f'<title id="unrolled-title">{html.escape(spec.title)}, unrolled over {steps} steps: '
        "forward and backward flow</title>",
        "<defs>",
        f'<marker id="unrolled-fwd" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" fill="{LINE}"/></marker>',
        f'<marker id="unrolled-back" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" fill="{back}"/></marker>',
        "</defs>",
        f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
    ]

    def sub(name: str, index: str) -> str:
        return _esc(f"{_base(name)}_{{{index}}}")

    def arrow(x0: float, y0: float, x1: float, y1: float, backward: bool) -> str:
        style = f'stroke="{back}" stroke-dasharray="6 4"' if backward else f'stroke="{LINE}"'
        marker = "unrolled-back" if backward else "unrolled-fwd"
        return (
            f'<path d="M {x0:.1f} {y0:.1f} L {x1:.1f} {y1:.1f}" {style} stroke-width="2" '
            f'fill="none" marker-end="url(#{marker})"/>'
        )

    for k in range(steps):
        x = left + 20 + k * (box_w + gap)
        t = labels[k]
        out.append(
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{box_w:.0f}" height="{box_h:.0f}" rx="10" '
            f'fill="#e8eaf6" stroke="#3949ab" stroke-width="2"/>'
        )
        out.append(
            f'<text x="{x + box_w / 2:.1f}" y="{top + box_h / 2 + 5:.1f}" text-anchor="middle" '
            f'font-weight="bold" fill="#1a237e">step {html.escape(t)}</text>'
        )
        cx = x + box_w / 2
        # input from below
        out.append(arrow(cx, top + box_h + 50, cx, top + box_h + 2, False))
        out.append(
            f'<text x="{cx:.1f}" y="{top + box_h + 68:.1f}" text-anchor="middle">'
            f"{sub(spec.input_name, t)}</text>"
        )
        # output up to the loss, and the loss's adjoint back down
        out.append(arrow(cx - 12, top - 2, cx - 12, top - 48, False))
        out.append(arrow(cx + 12, top - 48, cx + 12, top - 2, True))
        out.append(
            f'<text x="{cx:.1f}" y="{top - 56:.1f}" text-anchor="middle" font-weight="bold">'
            f"ℓ{_esc('_{' + t + '}')}</text>"
        )
        out.append(
            f'<text x="{cx - 16:.1f}" y="{top - 22:.1f}" text-anchor="end" font-size="13">'
            f"{sub(output, t)}</text>"
        )
        out.append(
            f'<text x="{cx + 16:.1f}" y="{top - 22:.1f}" font-size="13" fill="{back}">'
            f"δ{sub(output, t)}</text>"
        )
        # states to the next step (forward, upper) and their adjoints back (lower)
        x_end = x + box_w
        for s, state in enumerate(states):
            y_f = top + 22 + s * 56.0
            y_b = y_f + 16
            if k + 1 < steps:
                out.append(arrow(x_end + 2, y_f, x_end + gap - 2, y_f, False))
                out.append(arrow(x_end + gap - 2, y_b, x_end + 2, y_b, True))
                out.append(
                    f'<text x="{x_end + gap / 2:.1f}" y="{y_f - 5:.1f}" text-anchor="middle" '
                    f'font-size="13">{sub(state, t)}</text>'
                )
                out.append(
                    f'<text x="{x_end + gap / 2:.1f}" y="{y_b + 17:.1f}" text-anchor="middle" '
                    f'font-size="13" fill="{back}">δ{sub(state, t)}</text>'
                )
    out.append(
        f'<text x="{left:.1f}" y="{height - 8:.1f}" font-size="13" fill="{LINE}">'
        f'solid: forward · <tspan fill="{back}">dashed: backward (adjoints δ)</tspan></text>'
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"
