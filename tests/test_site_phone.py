"""Every page of the built site at a phone's width (390 px): nothing clipped, no raw
reStructuredText, and the worked example's numbers where they belong.

One pass opens every page once (module fixture); the tests read what it collected. The
expected numbers come from running the generated kernel here, not from the page generator.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Browser
from site_support import require_built_site
from test_site_browser import WAIT_FOR_MATH, all_pages, browser, site_url

from lstm_sym.docs_render.worked_example import inputs, output_weights, parameters
from lstm_sym.kernels import lstm, rnn

__all__ = ["browser", "site_url"]  # fixtures shared with the browser tests

PHONE = {"width": 390, "height": 844}

#: The only boxes whose content may be wider than a phone's screen, scrolling sideways inside
#: them: code listings, the API reference's parameter tables (mkdocstrings), the explorer's
#: table of local derivatives and the Performance page's inline charts.
SCROLLERS = {
    "code listing": "pre > code",
    "API parameter table": ".doc .md-typeset__scrollwrap",
    "explorer derivative table": ".lse-scroll",
    "performance chart": ".lstm-scroll",
}

#: Elements of the article that stick out of the screen or of a box that scrolls sideways,
#: unless that box is one of SCROLLERS; boxes other than SCROLLERS whose content is wider than
#: they are (a table, a display equation or a figure that needs sideways scrolling); math that
#: hides part of itself; and the page's own sideways overflow. (MathJax's invisible assistive
#: MathML is not content a reader sees.)
CLIPPED = """(named) => {
    const article = document.querySelector("article.md-content__inner") || document.body;
    const box = {left: 0, right: document.documentElement.clientWidth};
    const allowed = (el) => named.some((selector) => el.matches(selector));
    const scrolling = (el) => ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
    const inNamedScroller = (el) => {
        for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
            if (scrolling(a) && allowed(a)) return true;
        }
        return false;
    };
    const describe = (el) => `${el.tagName.toLowerCase()}.${String(el.className).slice(0, 40)}`
        + ` "${(el.textContent || "").trim().slice(0, 50)}"`;
    const out = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > doc.clientWidth + 1) {
        out.push(`page scrolls sideways: ${doc.scrollWidth} > ${doc.clientWidth}`);
    }
    for (const el of article.querySelectorAll("*")) {
        if (el.closest("mjx-assistive-mml") || inNamedScroller(el)) continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        if (scrolling(el) && !allowed(el) && el.scrollWidth > el.clientWidth + 1) {
            out.push(`needs sideways scrolling (${el.scrollWidth} > ${el.clientWidth} px): `
                     + describe(el));
            continue;
        }
        const sticksOut = r.right > box.right + 1 || r.left < box.left - 1;
        const style = getComputedStyle(el);
        const hides = (style.overflowX === "hidden" || style.overflowX === "clip")
            && el.scrollWidth > el.clientWidth + 1 && el.tagName.startsWith("MJX");
        if (sticksOut || hides) {
            out.push(`[${Math.round(r.left)}, ${Math.round(r.right)}] ${describe(el)}`);
        }
    }
    return out.slice(0, 8);
}"""

#: The article's text without code listings (a listing of a module's source legitimately shows
#: its docstrings' roles).
PROSE = """() => {
    const article = document.querySelector("article");
    if (!article) return "";
    const copy = article.cloneNode(true);
    copy.querySelectorAll("pre").forEach(p => p.remove());
    document.body.appendChild(copy);
    const text = copy.innerText;
    copy.remove();
    return text;
}"""

#: Roles of Sphinx's Python domain, as they read when nothing rendered them.
RST_ROLE = re.compile(r":(?:py:)?(?:data|func|class|meth|attr|mod|obj|exc|ref|const):`")


@pytest.fixture(scope="module")
def phone_pages(browser: Browser, site_url: str) -> Iterator[dict[str, dict[str, Any]]]:
    """Every page opened once at 390 px: what is clipped, and the article's text."""
    site = require_built_site()
    context = browser.new_context(viewport=PHONE)
    seen: dict[str, dict[str, Any]] = {}
    try:
        page = context.new_page()
        for relative in all_pages(site):
            page.goto(site_url + relative, wait_until="load")
            page.evaluate(WAIT_FOR_MATH)
            # Open every collapsible block: solutions must fit too.
            page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
            seen[relative] = {
                "clipped": page.evaluate(CLIPPED, list(SCROLLERS.values())),
                "text": page.evaluate(PROSE),
            }
        yield seen
    finally:
        context.close()


def _fmt(value: float) -> str:
    text = f"{value:.3f}"
    return "0.000" if text in {"0.000", "-0.000"} else text.replace("-", "\u2212")


def test_nothing_is_clipped_on_a_phone(phone_pages: dict[str, dict[str, Any]]) -> None:
    """At 390 px no page scrolls sideways, and no table, equation or figure sticks out of the
    content column, hides math or needs sideways scrolling; only the boxes SCROLLERS names
    may scroll."""
    report = [f"{page}: {item}" for page, seen in phone_pages.items() for item in seen["clipped"]]
    assert not report, "\n".join(report)


def test_no_raw_restructuredtext_roles(phone_pages: dict[str, dict[str, Any]]) -> None:
    """No page's prose (code listings aside) shows an unrendered reStructuredText role such as
    :func:`name`."""
    report = [
        f"{page}: {match.group(0)}"
        for page, seen in phone_pages.items()
        for match in RST_ROLE.finditer(seen["text"])
    ]
    assert not report, report


def _forward() -> dict[str, np.ndarray]:
    hs, _, cache = lstm.forward(inputs(), parameters())
    values = {k: np.asarray(cache[f"{k}_seq"])[:, 0, :] for k in ("f", "i", "C_tilde", "o")}
    values["h"] = hs[:, 0, :]
    return values


def _missing(text: str, numbers: list[float]) -> list[str]:
    return [_fmt(v) for v in numbers if _fmt(v) not in text]


def test_gate_pages_show_the_kernels_gate_values(phone_pages: dict[str, dict[str, Any]]) -> None:
    """The forget, input and output pages show every value of their gate that the generated
    kernel computes for the worked example, step by step (the output page: the subject unit's
    gate and both units' hidden state)."""
    values = _forward()
    expected = {
        "gates/forget/index.html": values["f"],
        "gates/input/index.html": np.concatenate([values["i"], values["C_tilde"]]),
        "gates/output/index.html": np.concatenate([values["o"][:, 0], values["h"].ravel()]),
    }
    report = {
        page: _missing(phone_pages[page]["text"], list(numbers.ravel()))
        for page, numbers in expected.items()
    }
    assert not any(report.values()), report


def test_bptt_page_shows_the_kernels_adjoints(phone_pages: dict[str, dict[str, Any]]) -> None:
    """The LSTM's BPTT page shows the adjoints that the kernel's step_backward gives for the
    worked example's last step and its cross-entropy loss (target: the first output word)."""
    params = parameters()
    xs = inputs()
    hs, final, _ = lstm.forward(xs[:-1], params)
    state = {"h": hs[-1], "C": final["C"]}
    after, step_cache = lstm.step(xs[-1], state, params)
    logits = output_weights() @ after["h"][0]
    p = np.exp(logits - logits.max())
    p /= p.sum()
    dh = output_weights().T @ (p - np.eye(len(p))[0])
    grads = lstm.step_backward({"h": dh[None, :], "C": np.zeros((1, 2))}, step_cache)
    o = np.asarray(step_cache["o_seq"])[0, 0]
    tanh_c = np.tanh(after["C"][0])
    numbers = [*dh, *(dh * tanh_c), *(dh * o * (1 - tanh_c**2))]
    numbers += [v for g in "fiCo" for v in grads[f"b_{g}"]]
    numbers += [*grads["h_prev"][0], *grads["C_prev"][0]]
    missing = _missing(phone_pages["derivations/lstm/index.html"]["text"], numbers)
    assert not missing, missing


def test_exercise_answers_are_on_the_page(phone_pages: dict[str, dict[str, Any]]) -> None:
    """The exercises page gives the RNN factors 0.9²⁰ and 1.1²⁰ as the generated RNN kernel
    computes them, to three significant digits."""
    text = phone_pages["exercises/index.html"]["text"]
    found = []
    for weight in (0.9, 1.1):
        hs, _, cache = rnn.forward(
            np.zeros((20, 1, 1)),
            {"W_h": np.array([[weight, 0.0]]), "b_h": np.zeros(1)},
            {"h": np.full((1, 1), 1e-8)},
        )
        dhs = np.zeros_like(hs)
        dhs[-1] = 1.0
        factor = float(rnn.backward(dhs, cache)["h0"][0, 0])
        assert math.isclose(factor, weight**20, rel_tol=1e-6)
        found.append(f"{factor:.3g}" in text)
    assert all(found)


def test_home_says_where_to_start_on_its_first_screen(browser: Browser, site_url: str) -> None:
    """On a phone, Home's "Where to start reading" box, with its link to Why LSTM, begins
    within the first screen."""
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(site_url, wait_until="load")
        box = page.locator("article .admonition", has_text="Where to start reading")
        assert box.locator("a[href$='why-lstm/']").count() >= 1
        top = box.bounding_box()
        assert top is not None and top["y"] < PHONE["height"] - 100, top
    finally:
        context.close()
