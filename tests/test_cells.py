"""The built-in cell family: gradients, torch agreement, steps, parameter keys, GRU interop."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest
import torch

from lstm_sym.docs_render.variants import VARIANTS_PAGE
from lstm_sym.interop.torch import (
    GRU_GATE_ORDER,
    gru_params_from_torch,
    gru_params_to_torch,
    gru_state_from_torch,
    gru_state_to_torch,
)
from lstm_sym.kernels import gru_torch, load_kernel, lstm
from lstm_sym.regenerate import builtin_artifacts
from lstm_sym.spec import builtin_cell_names, load_builtin, parse_spec
from lstm_sym.verify.finite_differences import (
    FD_TOLERANCE,
    finite_difference_errors,
    make_problem,
    relative_error,
)
from lstm_sym.verify.torch_oracle import ORACLES, TORCH_TOLERANCE, torch_errors
from lstm_sym.verify.torch_reference import REFERENCES

GREFF = ("W_f", "b_f", "W_i", "b_i", "W_C", "b_C", "W_o", "b_o")

#: Parameter keys of every built-in cell, in the order the issue states them.
PARAMETER_KEYS: dict[str, tuple[str, ...]] = {
    "lstm": GREFF,
    "rnn": ("W_h", "b_h"),
    "gru": ("W_z", "b_z", "W_r", "b_r", "W_h", "b_h"),
    "gru_torch": ("W_r", "b_r", "W_z", "b_z", "W_xn", "b_xn", "W_hn", "b_hn"),
    "coupled_lstm": ("W_f", "b_f", "W_C", "b_C", "W_o", "b_o"),
    "peephole_lstm": (*GREFF, "p_f", "p_i", "p_o"),
    "lstm_nig": ("W_f", "b_f", "W_C", "b_C", "W_o", "b_o", "p_f", "p_o"),
    "lstm_nfg": ("W_i", "b_i", "W_C", "b_C", "W_o", "b_o", "p_i", "p_o"),
    "lstm_nog": ("W_f", "b_f", "W_i", "b_i", "W_C", "b_C", "p_f", "p_i"),
    "lstm_niaf": (*GREFF, "p_f", "p_i", "p_o"),
    "lstm_noaf": (*GREFF, "p_f", "p_i", "p_o"),
    "lstm_cifg": ("W_i", "b_i", "W_C", "b_C", "W_o", "b_o", "p_i", "p_o"),
    "lstm_fgr": (*GREFF, "p_f", "p_i", "p_o"),
}

#: State keys of every built-in cell.
STATE_KEYS: dict[str, tuple[str, ...]] = {
    name: ("h",) if name in ("rnn", "gru", "gru_torch") else ("h", "C") for name in PARAMETER_KEYS
}
STATE_KEYS["lstm_fgr"] = ("h", "C", "i", "f", "o")

CELLS = tuple(PARAMETER_KEYS)
T, B, D, H = 4, 3, 3, 5


def _kernel(name: str) -> ModuleType:
    return load_kernel(name)


def _problem_arrays(
    kernel: ModuleType, seed: int = 0
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    params = kernel.init_params(D, H, seed=seed)
    xs = rng.standard_normal((T, B, D))
    state = {name: rng.standard_normal((B, H)) for name in kernel.STATE_NAMES}
    return xs, params, state


def test_the_built_in_cells_are_exactly_the_family():
    """`builtin_cell_names` lists the lecture's LSTM first and exactly the thirteen cells."""
    names = builtin_cell_names()
    assert names[0] == "lstm"
    assert set(names) == set(CELLS)


@pytest.mark.parametrize("cell", CELLS)
def test_parameter_keys_are_those_of_the_issue(cell):
    """Each kernel's init_params returns the issue's parameter keys, in declaration order."""
    kernel = _kernel(cell)
    assert kernel.PARAMETER_NAMES == PARAMETER_KEYS[cell]
    assert tuple(kernel.init_params(D, H, seed=0)) == PARAMETER_KEYS[cell]
    assert kernel.STATE_NAMES == STATE_KEYS[cell]
    assert kernel.OUTPUT_STATE == "h"


def test_gru_torch_parameter_shapes_split_the_candidate():
    """gru_torch's W_xn acts on x alone (H, D) and W_hn on h alone (H, H)."""
    shapes = gru_torch.parameter_shapes(D, H)
    assert shapes["W_r"] == shapes["W_z"] == (H, H + D)
    assert shapes["W_xn"] == (H, D) and shapes["W_hn"] == (H, H)
    assert shapes["b_xn"] == shapes["b_hn"] == (H,)


def test_fgr_gates_read_the_previous_gates():
    """lstm_fgr's gate weights act on [h, x, i, f, o] (H, 4H + D); the candidate's on [h, x]."""
    shapes = load_kernel("lstm_fgr").parameter_shapes(D, H)
    for gate in ("f", "i", "o"):
        assert shapes[f"W_{gate}"] == (H, 4 * H + D)
    assert shapes["W_C"] == (H, H + D)
    spec = load_builtin("lstm_fgr")
    extra = spec.parameter_count(32, 64) - load_builtin("peephole_lstm").parameter_count(32, 64)
    assert extra == 9 * 64 * 64


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_match_central_finite_differences(cell):
    """Every element of every gradient agrees with central differences to 1e-7 per tensor."""
    kernel = _kernel(cell)
    problem = make_problem(kernel, steps=3, batch=2, input_size=3, hidden_size=4, seed=5)
    assert all(np.any(v != 0) for v in problem.state.values())
    assert all(np.any(v != 0) for v in problem.dstate.values())
    errors = finite_difference_errors(problem)
    expected = {*PARAMETER_KEYS[cell], "xs", *(f"{s}0" for s in STATE_KEYS[cell])}
    assert set(errors) == expected
    worst = max(errors, key=errors.__getitem__)
    assert errors[worst] < FD_TOLERANCE, (worst, errors[worst])


@pytest.mark.parametrize("cell", CELLS)
def test_forward_and_gradients_match_torch(cell):
    """Outputs, final state and every gradient equal the cell's torch oracle to 1e-10."""
    assert cell in ORACLES
    errors = torch_errors(_kernel(cell), steps=5, batch=2, input_size=3, hidden_size=4, seed=2)
    states = STATE_KEYS[cell]
    expected = {*PARAMETER_KEYS[cell], "xs", "hs"}
    expected |= {f"{s}0" for s in states} | {f"{s}_final" for s in states}
    assert set(errors) == expected
    worst = max(errors, key=errors.__getitem__)
    assert errors[worst] < TORCH_TOLERANCE, (worst, errors[worst])


def test_every_cell_without_a_torch_module_has_a_hand_written_reference():
    """All cells but lstm, rnn and gru_torch (checked against nn.*) have a torch reference."""
    assert set(REFERENCES) == set(CELLS) - {"lstm", "rnn", "gru_torch"}


def test_peephole_reference_without_peepholes_is_torch_lstm():
    """The hand-written peephole reference with p = 0 computes what torch.nn.LSTM computes."""
    from lstm_sym.interop.torch import params_to_torch, state_to_torch

    kernel = _kernel("peephole_lstm")
    xs, params, state = _problem_arrays(kernel, seed=3)
    params.update({p: np.zeros(H) for p in ("p_f", "p_i", "p_o")})
    lecture = {name: params[name] for name in GREFF}
    with torch.no_grad():
        expected, _ = params_to_torch(lecture)(torch.tensor(xs), state_to_torch(state))
        hs, _ = REFERENCES["peephole_lstm"](
            torch.tensor(xs),
            {k: torch.tensor(v) for k, v in params.items()},
            {k: torch.tensor(v) for k, v in state.items()},
        )
    assert relative_error(hs.numpy(), expected.numpy()) < TORCH_TOLERANCE


@pytest.mark.parametrize("cell", CELLS)
def test_step_by_step_forward_equals_sequence_forward(cell):
    """Calling step() T times gives the outputs and final state of forward()."""
    kernel = _kernel(cell)
    xs, params, state = _problem_arrays(kernel)
    hs, final, _ = kernel.forward(xs, params, state)
    current = state
    for t, x in enumerate(xs):
        current, _ = kernel.step(x, current, params)
        np.testing.assert_allclose(current["h"], hs[t], rtol=1e-12, atol=1e-14)
    for name in kernel.STATE_NAMES:
        np.testing.assert_allclose(current[name], final[name], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", CELLS)
def test_step_backward_chained_equals_sequence_backward(cell):
    """Chaining step_backward() through time reproduces backward() of the whole sequence."""
    kernel = _kernel(cell)
    xs, params, state = _problem_arrays(kernel, seed=1)
    rng = np.random.default_rng(9)
    dhs = rng.standard_normal((T, B, H))
    dfinal = {name: rng.standard_normal((B, H)) for name in kernel.STATE_NAMES}
    _, _, cache = kernel.forward(xs, params, state)
    expected = kernel.backward(dhs, cache, dfinal)

    caches, current = [], state
    for x in xs:
        current, step_cache = kernel.step(x, current, params)
        caches.append(step_cache)
    totals = {key: np.zeros_like(value) for key, value in params.items()}
    dxs = np.empty_like(xs)
    dstate = dict(dfinal)
    for t in range(T - 1, -1, -1):
        dstate["h"] = dstate["h"] + dhs[t]
        grads = kernel.step_backward(dstate, caches[t])
        for key in totals:
            totals[key] += grads[key]
        dxs[t] = grads["x"]
        dstate = {name: grads[f"{name}_prev"] for name in kernel.STATE_NAMES}
    for key in totals:
        assert relative_error(totals[key], expected[key]) < 1e-12, key
    assert relative_error(dxs, expected["xs"]) < 1e-12
    for name in kernel.STATE_NAMES:
        assert relative_error(dstate[name], expected[f"{name}0"]) < 1e-12, name


# -- gru_torch <-> torch.nn.GRU ------------------------------------------------------------------


def test_gru_params_round_trip_through_torch_exactly():
    """gru_params_from_torch(gru_params_to_torch(p)) returns p bit for bit."""
    params = gru_torch.init_params(D, H, seed=4)
    back = gru_params_from_torch(gru_params_to_torch(params))
    assert tuple(back) == gru_torch.PARAMETER_NAMES
    for name, value in params.items():
        assert back[name].dtype == value.dtype
        np.testing.assert_array_equal(back[name], value, err_msg=name)


def test_gru_module_round_trip_keeps_the_forward_output():
    """gru_params_to_torch(gru_params_from_torch(m)) computes what m computes."""
    torch.manual_seed(0)
    module = torch.nn.GRU(D, H, dtype=torch.float64)
    xs, _, state = _problem_arrays(gru_torch, seed=5)
    rebuilt = gru_params_to_torch(gru_params_from_torch(module))
    with torch.no_grad():
        expected, _ = module(torch.tensor(xs), gru_state_to_torch(state))
        got, _ = rebuilt(torch.tensor(xs), gru_state_to_torch(state))
    assert relative_error(got.numpy(), expected.numpy()) < TORCH_TOLERANCE


def test_kernel_on_params_from_a_torch_gru_computes_what_the_module_computes():
    """The gru_torch kernel run on gru_params_from_torch(m) gives m's outputs and final state."""
    torch.manual_seed(1)
    module = torch.nn.GRU(D, H, dtype=torch.float64)
    xs, _, state = _problem_arrays(gru_torch, seed=6)
    hs, final, _ = gru_torch.forward(xs, gru_params_from_torch(module), state)
    with torch.no_grad():
        expected_hs, h_n = module(torch.tensor(xs), gru_state_to_torch(state))
    assert relative_error(hs, expected_hs.numpy()) < TORCH_TOLERANCE
    assert relative_error(final["h"], gru_state_from_torch(h_n)["h"]) < TORCH_TOLERANCE


def test_gru_params_to_torch_keeps_b_hn_in_bias_hh():
    """b_r, b_z and b_xn go to bias_ih_l0 (order r, z, n); bias_hh_l0 holds only b_hn."""
    params = gru_torch.init_params(D, H, seed=7)
    named = dict(gru_params_to_torch(params).named_parameters())
    assert GRU_GATE_ORDER == ("r", "z", "n")
    expected_ih = np.concatenate([params["b_r"], params["b_z"], params["b_xn"]])
    expected_hh = np.concatenate([np.zeros(2 * H), params["b_hn"]])
    np.testing.assert_array_equal(named["bias_ih_l0"].detach().numpy(), expected_ih)
    np.testing.assert_array_equal(named["bias_hh_l0"].detach().numpy(), expected_hh)


def test_gru_params_to_torch_loads_into_a_given_module():
    """gru_params_to_torch(p, m) writes into m itself and returns it."""
    params = gru_torch.init_params(D, H, seed=8)
    module = torch.nn.GRU(D, H, dtype=torch.float64)
    assert gru_params_to_torch(params, module) is module
    np.testing.assert_array_equal(gru_params_from_torch(module)["W_hn"], params["W_hn"])


def test_gru_params_to_torch_rejects_bad_params():
    """A missing key or a W_hn of the wrong shape raises a ValueError naming it."""
    params = dict(gru_torch.init_params(D, H, seed=9))
    with pytest.raises(ValueError, match=r"params\['W_hn'\] must have shape \(5, 5\)"):
        gru_params_to_torch({**params, "W_hn": np.zeros((H, H + D))})
    del params["b_hn"]
    with pytest.raises(ValueError, match=r"missing \['b_hn'\]"):
        gru_params_to_torch(params)


@pytest.mark.parametrize(
    "module",
    [torch.nn.GRU(D, H, num_layers=2), torch.nn.GRU(D, H, bias=False), torch.nn.LSTM(D, H)],
    ids=["two-layers", "no-bias", "lstm"],
)
def test_gru_params_from_torch_rejects_other_modules(module):
    """A module the gru_torch kernel cannot represent raises a ValueError naming module."""
    with pytest.raises(ValueError, match=r"^module "):
        gru_params_from_torch(module)


def test_gru_state_round_trips_through_torch():
    """gru_state_from_torch(gru_state_to_torch(s)) returns s via a (1, B, H) tensor."""
    state = {"h": np.random.default_rng(0).standard_normal((B, H))}
    h0 = gru_state_to_torch(state)
    assert tuple(h0.shape) == (1, B, H)
    np.testing.assert_array_equal(gru_state_from_torch(h0)["h"], state["h"])
    with pytest.raises(ValueError, match=r"exactly the keys \['h'\]"):
        gru_state_to_torch({"h": state["h"], "C": state["h"]})


# -- the engine carries cells that need its generalisations --------------------------------------


def _user_kernel(text: str, tmp_path) -> ModuleType:
    from lstm_sym.backends.numpy.printer import render_kernel
    from lstm_sym.derive import derive
    from lstm_sym.verify.gradcheck import kernel_from_source

    spec = parse_spec(text)
    return kernel_from_source(render_kernel(derive(spec), "user.cell", "test"), spec.name)


def test_a_state_can_be_the_target_of_a_linear_map(tmp_path):
    """A linear RNN, h = W @ [h_prev, x] + b, generates a kernel whose gradients check out."""
    kernel = _user_kernel(
        "cell linear_rnn\ninput x\nstate h output\nparam W\nparam b\nh = W @ [h_prev, x] + b\n",
        tmp_path,
    )
    problem = make_problem(kernel)
    hs, _, _ = kernel.forward(problem.xs, problem.params, problem.state)
    expected = np.concatenate([problem.state["h"], problem.xs[0]], axis=1) @ problem.params["W"].T
    np.testing.assert_allclose(hs[0], expected + problem.params["b"], rtol=1e-13)
    assert max(finite_difference_errors(problem).values()) < FD_TOLERANCE


def test_a_pre_activation_read_by_the_backward_pass_is_kept(tmp_path):
    """A linear map's output that a local derivative reads (r ⊙ a) has correct gradients."""
    kernel = _user_kernel(
        "cell scaled\ninput x\nstate h output\nparam W\nparam U\n"
        "a = W @ [x]\nr = sigmoid(a)\nu = U @ [h_prev]\nh = tanh(r * u)\n",
        tmp_path,
    )
    assert max(finite_difference_errors(make_problem(kernel)).values()) < FD_TOLERANCE


# -- the variants page ---------------------------------------------------------------------------


def _variants_page() -> str:
    for artifacts in builtin_artifacts():
        if VARIANTS_PAGE in artifacts.files:
            return artifacts.files[VARIANTS_PAGE]
    raise AssertionError("regenerate renders no variants page")


def test_variants_page_lists_every_cell_with_its_parameter_count():
    """docs/variants.md has a section and a table row with the D=32, H=64 count for each cell."""
    page = _variants_page()
    for cell in CELLS:
        count = load_builtin(cell).parameter_count(32, 64)
        assert f"| [`{cell}`](#{cell.replace('_', '-')}) |" in page, cell
        assert f"{count:,} parameters at $D = 32$, $H = 64$" in page, cell
        assert f"(derivations/{cell}.md)" in page, cell


def test_variants_page_states_what_each_cell_changes():
    """Every cell but the lecture's LSTM has a one-line comparison, shown on the page."""
    page = _variants_page()
    for cell in CELLS[1:]:
        compare = load_builtin(cell).compare
        assert compare and compare in page, cell


def test_variants_page_writes_the_torch_candidate_with_parentheses():
    """gru_torch's candidate shows r ⊙ (W_hn h + b_hn), the reset applied after the product."""
    page = _variants_page()
    assert r"r_{t} \odot \left(W_{hn} \cdot h_{t-1} + b_{hn}\right)" in page


def test_lstm_kernel_is_still_the_lecture_lstm():
    """The lecture's LSTM keeps its eight parameters and its two states."""
    assert lstm.PARAMETER_NAMES == GREFF and lstm.STATE_NAMES == ("h", "C")


@pytest.mark.parametrize("cell", builtin_cell_names())
def test_results_do_not_depend_on_the_chunking_of_the_sequence(cell, monkeypatch):
    """Blocks of one or three steps (projections, factors, weight gradients) change nothing."""
    kernel = load_kernel(cell)
    problem = make_problem(kernel, steps=7, batch=1, input_size=3, hidden_size=4, seed=5)
    hs, _, cache = kernel.forward(problem.xs, problem.params, problem.state)
    expected = kernel.backward(problem.dhs, cache, problem.dstate)
    for rows in (1, 3):
        monkeypatch.setattr(kernel, "_CHUNK_ROWS", rows)
        chunked_hs, _, chunked_cache = kernel.forward(problem.xs, problem.params, problem.state)
        chunked = kernel.backward(problem.dhs, chunked_cache, problem.dstate)
        assert relative_error(chunked_hs, hs) < 1e-14
        for name, value in expected.items():
            assert relative_error(chunked[name], value) < 1e-13, (rows, name)


def test_lstm_gradients_match_finite_differences_across_several_chunks(monkeypatch):
    """With blocks of two steps the LSTM still passes the finite-difference check."""
    kernel = load_kernel("lstm")
    monkeypatch.setattr(kernel, "_CHUNK_ROWS", 4)
    problem = make_problem(kernel, steps=5, batch=2, seed=9)
    assert max(finite_difference_errors(problem).values()) < 1e-7
