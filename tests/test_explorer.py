"""The cell explorer page: its generated JavaScript agrees with the NumPy kernels, its UI works.

The browser tests open ``explore/`` of the shared built site (``site_support.built_site``) in
Debian's Chromium and call ``window.lstmSymExplorer`` there; the references are the generated
NumPy kernels' ``step`` / ``step_backward`` / ``forward`` / ``backward`` with H = D = 1.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import sympy
from playwright.sync_api import Browser, Page, sync_playwright
from site_support import require_built_site, serve, site_port
from test_site_browser import CHROMIUM, CHROMIUM_ARGS

from lstm_sym.backends.javascript.printer import ExplorerPrinter, render_explorer_script
from lstm_sym.derive import derive
from lstm_sym.kernels import load_kernel
from lstm_sym.spec import SpecError, builtin_cell_names, load_builtin, parse_spec

#: Random points per cell at which the page's arithmetic is compared with the kernel's.
POINTS = 4
RELATIVE_TOLERANCE = 1e-12


@pytest.fixture(scope="module")
def site_and_browser() -> Iterator[tuple[str, Browser]]:
    """The shared built site served on its own port, and Debian's Chromium, headless."""
    with (
        serve(require_built_site(), port=site_port()) as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield url, browser
        browser.close()


@pytest.fixture(scope="module")
def explorer_page(site_and_browser: tuple[str, Browser]) -> Iterator[tuple[Page, list[str]]]:
    """The explorer page, loaded once, and the errors it reports to the console."""
    url, browser = site_and_browser
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url + "explore/", wait_until="load")
    page.wait_for_function("() => window.lstmSymExplorer && window.lstmSymExplorer.explorer")
    yield page, errors
    page.close()


def _random_point(cell: str, rng: np.random.Generator) -> dict[str, Any]:
    """Inputs in the shapes ``evaluate`` takes: numbers, and parameters as nested lists."""
    kernel = load_kernel(cell)
    inputs: dict[str, Any] = {kernel.INPUT_NAME: float(rng.uniform(-1.5, 1.5))}
    for state in kernel.STATE_NAMES:
        inputs[f"{state}_prev"] = float(rng.uniform(-1, 1))
        inputs[f"d_{state}"] = float(rng.uniform(-1, 1))
    for name, shape in kernel.parameter_shapes(1, 1).items():
        inputs[name] = rng.uniform(-1.5, 1.5, size=shape).tolist()
    return inputs


def _kernel_step(cell: str, inputs: dict[str, Any]) -> tuple[dict[str, float], dict[str, Any]]:
    """New states and one step's gradients from the NumPy kernel, for one unit."""
    kernel = load_kernel(cell)
    x = np.array([[inputs[kernel.INPUT_NAME]]], dtype=float)
    state = {s: np.array([[inputs[f"{s}_prev"]]], dtype=float) for s in kernel.STATE_NAMES}
    params = {name: np.array(inputs[name], dtype=float) for name in kernel.PARAMETER_NAMES}
    new_state, cache = kernel.step(x, state, params)
    dstate = {s: np.array([[inputs[f"d_{s}"]]], dtype=float) for s in kernel.STATE_NAMES}
    grads = kernel.step_backward(dstate, cache)
    gradients: dict[str, Any] = {name: grads[name] for name in kernel.PARAMETER_NAMES}
    gradients[kernel.INPUT_NAME] = grads[kernel.INPUT_NAME][0, 0]
    for s in kernel.STATE_NAMES:
        gradients[f"{s}_prev"] = grads[f"{s}_prev"][0, 0]
    return {s: float(new_state[s][0, 0]) for s in kernel.STATE_NAMES}, gradients


def _relative_error(actual: Any, expected: Any) -> float:
    """``‖a − e‖ / max(‖a‖, ‖e‖)``, 0 when both are zero; shapes must agree."""
    a, e = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert a.shape == e.shape, (a.shape, e.shape)
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(e)))
    return float(np.linalg.norm(a - e)) / scale if scale else 0.0


def test_evaluate_matches_the_numpy_kernels_for_every_cell(
    explorer_page: tuple[Page, list[str]],
) -> None:
    """evaluate() gives every built-in cell's new states and one step's gradients (parameters
    in the kernels' shapes, input, previous states) within 1e-12 of step / step_backward."""
    page, _ = explorer_page
    rng = np.random.default_rng(14)
    cases = [
        (cell, _random_point(cell, rng)) for cell in builtin_cell_names() for _ in range(POINTS)
    ]
    results = page.evaluate(
        "cases => cases.map(([cell, inputs]) => window.lstmSymExplorer.evaluate(cell, inputs))",
        [list(case) for case in cases],
    )
    failures = []
    for (cell, inputs), result in zip(cases, results, strict=True):
        states, gradients = _kernel_step(cell, inputs)
        assert set(result["gradients"]) == set(gradients), cell
        for name, expected in states.items():
            if _relative_error(result["forward"][name], expected) > RELATIVE_TOLERANCE:
                failures.append(f"{cell} {name}: {result['forward'][name]} != {expected}")
        for name, expected in gradients.items():
            if _relative_error(result["gradients"][name], expected) > RELATIVE_TOLERANCE:
                failures.append(f"{cell} d{name}: {result['gradients'][name]} != {expected}")
    assert not failures, "\n".join(failures)


def test_through_time_gradient_matches_the_kernels_backward(
    explorer_page: tuple[Page, list[str]],
) -> None:
    """The strip's ∂h_T/∂(initial state), chained from the generated step adjoints over 40 steps,
    equals the NumPy kernel's backward through time with the gradient 1 on h_T only."""
    page, _ = explorer_page
    rng = np.random.default_rng(7)
    for cell in ("lstm", "rnn", "gru"):
        kernel = load_kernel(cell)
        inputs = _random_point(cell, rng)
        xs = rng.uniform(-1, 1, size=40)
        result = page.evaluate(
            "([cell, inputs, xs]) => window.lstmSymExplorer.throughTime(cell, inputs, xs)",
            [cell, inputs, xs.tolist()],
        )
        params = {name: np.array(inputs[name], dtype=float) for name in kernel.PARAMETER_NAMES}
        state = {s: np.array([[inputs[f"{s}_prev"]]], dtype=float) for s in kernel.STATE_NAMES}
        hs, _, cache = kernel.forward(xs.reshape(-1, 1, 1), params, state)
        dhs = np.zeros_like(hs)
        dhs[-1] = 1.0
        grads = kernel.backward(dhs, cache)
        for s in kernel.STATE_NAMES:
            error = _relative_error(result["grad"][0][s], grads[f"{s}0"][0, 0])
            assert error <= RELATIVE_TOLERANCE, (cell, s, result["grad"][0][s], grads[f"{s}0"])


def test_the_cell_picker_lists_every_builtin_cell(explorer_page: tuple[Page, list[str]]) -> None:
    """The page's cell picker offers exactly the built-in cells, the lecture's LSTM first."""
    page, _ = explorer_page
    options = page.eval_on_selector_all("#lse-cell option", "os => os.map(o => o.value)")
    assert options == list(builtin_cell_names())


def test_moving_a_slider_updates_the_displayed_output(
    explorer_page: tuple[Page, list[str]],
) -> None:
    """Focusing the x_t slider and pressing ArrowRight moves x_t one step and the displayed h_t
    becomes the value evaluate() and the NumPy kernel give for the new inputs."""
    page, errors = explorer_page
    page.select_option("#lse-cell", "lstm")
    shown = page.locator('[data-output="value-h"]')
    before = shown.get_attribute("data-value")
    x_before = page.evaluate("() => window.lstmSymExplorer.currentInputs().x")
    page.focus('input[type="range"][data-key="x"]')
    page.keyboard.press("ArrowRight")
    inputs = page.evaluate("() => window.lstmSymExplorer.currentInputs()")
    assert inputs["x"] == pytest.approx(x_before + 0.01)
    evaluated = page.evaluate(
        "inputs => window.lstmSymExplorer.evaluate('lstm', inputs).forward.h", inputs
    )
    after = shown.get_attribute("data-value")
    assert after != before
    assert after is not None and float(after) == evaluated
    assert shown.inner_text().strip() == f"{evaluated:.4f}"
    states, _ = _kernel_step("lstm", inputs)
    assert _relative_error(evaluated, states["h"]) <= RELATIVE_TOLERANCE
    assert not errors


def test_pre_activation_mode_sets_the_gate_through_the_sigmoid(
    explorer_page: tuple[Page, list[str]],
) -> None:
    """In the simpler mode the a_f slider sets the forget gate's pre-activation directly: after
    ArrowRight the displayed f is σ(a_f) of the slider's new value."""
    page, errors = explorer_page
    page.select_option("#lse-cell", "lstm")
    page.select_option("#lse-mode", "direct")
    try:
        slider = page.locator('input[type="range"][data-key="a_f"]')
        slider.focus()
        page.keyboard.press("ArrowRight")
        a_f = float(slider.input_value())
        shown = page.locator('[data-output="value-f"]').get_attribute("data-value")
        assert shown is not None
        assert _relative_error(float(shown), 1 / (1 + np.exp(-a_f))) <= RELATIVE_TOLERANCE
        assert page.locator('[data-output="value-a_f"]').get_attribute("data-value") == str(a_f)
    finally:
        page.select_option("#lse-mode", "weights")
    assert not errors


def test_evaluate_refuses_incomplete_or_misshapen_inputs(
    explorer_page: tuple[Page, list[str]],
) -> None:
    """evaluate() throws an Error naming the key when an input is missing, not a number, or a
    parameter has the wrong shape, and when the cell is unknown."""
    page, _ = explorer_page
    inputs = _random_point("rnn", np.random.default_rng(3))
    broken = {
        "W_h": {**inputs, "W_h": [[0.5]]},
        "x": {k: v for k, v in inputs.items() if k != "x"},
        "d_h": {**inputs, "d_h": "1"},
    }
    for key, bad in broken.items():
        message = page.evaluate(
            """inputs => {
                try { window.lstmSymExplorer.evaluate("rnn", inputs); return null; }
                catch (error) { return error.message; }
            }""",
            bad,
        )
        assert message is not None and f"inputs.{key}" in message, (key, message)
    message = page.evaluate(
        """inputs => {
            try { window.lstmSymExplorer.evaluate("constructor", inputs); return null; }
            catch (error) { return error.message; }
        }""",
        inputs,
    )
    assert message is not None and "unknown cell" in message


def test_evaluate_refuses_an_input_that_overflows(explorer_page: tuple[Page, list[str]]) -> None:
    """evaluate() with C_prev = 1e308 (and δC = 4) throws a RangeError that names the results
    that are not finite and the input behind them, instead of returning NaN or infinity."""
    page, _ = explorer_page
    # δf = δC · C_prev = 4e308 overflows to infinity; its products give NaN further down.
    inputs = {**_random_point("lstm", np.random.default_rng(4)), "C_prev": 1e308, "d_C": 4.0}
    outcome = page.evaluate(
        """inputs => {
            try { return {returned: window.lstmSymExplorer.evaluate("lstm", inputs)}; }
            catch (error) { return {name: error.name, message: error.message}; }
        }""",
        inputs,
    )
    assert outcome.get("name") == "RangeError", outcome
    assert "not finite" in outcome["message"] and "C_prev = 1e+308" in outcome["message"]


def test_the_rnn_strip_summarises_the_rnn_once(explorer_page: tuple[Page, list[str]]) -> None:
    """With the rnn selected, the strip's summary line names the rnn once, not as both the
    cell and its comparison; with the lstm, it names each cell once."""
    page, _ = explorer_page
    readouts = {}
    for cell in ("rnn", "lstm"):
        page.select_option("#lse-cell", cell)
        readouts[cell] = page.locator(".lse-readout").inner_text()
    page.select_option("#lse-cell", "lstm")
    assert readouts["rnn"].count("rnn:") == 1, readouts["rnn"]
    assert readouts["lstm"].count("lstm:") == 1 and readouts["lstm"].count("rnn:") == 1


def test_explorer_starts_after_instant_navigation(site_and_browser: tuple[str, Browser]) -> None:
    """Following the navigation link to the page (Material's instant loading, no full reload)
    builds the explorer, and it computes: moving a slider changes the displayed h_t."""
    url, browser = site_and_browser
    page = browser.new_page()
    try:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url + "gates/output/", wait_until="load")
        page.evaluate("() => { window.__lstmSymNoReload = true; }")
        page.locator("a.md-nav__link[href$='explore/']").first.click()
        page.wait_for_url("**/explore/")
        page.wait_for_selector("#lse-cell option", state="attached")
        assert page.evaluate("() => window.__lstmSymNoReload === true"), "page fully reloaded"
        shown = page.locator('[data-output="value-h"]')
        before = shown.get_attribute("data-value")
        page.focus('input[type="range"][data-key="x"]')
        page.keyboard.press("ArrowLeft")
        assert shown.get_attribute("data-value") != before
        assert not errors
    finally:
        page.close()


def test_spec_text_enters_the_script_only_json_encoded() -> None:
    """A title and a doc line full of quotes and code appear in the generated script only as
    JSON strings of the metadata (never as code), even for a spec the parser would refuse."""
    hostile = 'x"; alert(1); //</script>'
    spec = load_builtin("rnn")
    # The parser refuses such text; build the spec directly to test the renderer on its own.
    declarations = tuple(
        dataclasses.replace(d, doc='x"; alert(2); //') if d.name == "x" else d
        for d in spec.declarations
    )
    user_spec = dataclasses.replace(spec, title=hostile, declarations=declarations)
    with pytest.raises(SpecError):
        parse_spec(spec.source.read_text().replace(f'title "{spec.title}"', f"title '{hostile}'"))
    script = render_explorer_script([derive(user_spec)], ["user.cell"], "lstm-sym regenerate")
    lines = [line.strip() for line in script.splitlines() if "alert(" in line]
    assert [line.partition(": ")[0] for line in lines] == ["title", "docs"]
    decoded = [json.loads(line.partition(": ")[2].rstrip(",")) for line in lines]
    assert decoded[0] == hostile
    assert decoded[1]["x"] == 'x"; alert(2); //'


def test_printer_refuses_symbols_it_was_not_given() -> None:
    """The JavaScript printer prints only symbols from its table: any other is a KeyError."""
    printer = ExplorerPrinter({sympy.Symbol("a", real=True): "v.a"})
    assert printer.doprint(sympy.Symbol("a", real=True) * 2) == "2*v.a"
    with pytest.raises(KeyError, match="constructor"):
        printer.doprint(sympy.Symbol("constructor", real=True))
