"""Large pre-activations: wherever the forward pass is finite, every gradient is finite.

Checked on every built-in cell, on the accepted hostile specs (``tests/hostile_specs/
accepted/``) and on a generated corpus of cells whose gate is a product of exponentials,
sigmoids and tanhs of the pre-activation (``exp(a)·exp(−exp(a))`` overflows to inf·0 unless
the derivation combines it into ``exp(a − exp(a))``).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_sym.kernels import load_kernel
from lstm_sym.regenerate import user_artifacts
from lstm_sym.spec import builtin_cell_names, parse_spec_file
from lstm_sym.verify.gradcheck import check_kernel, kernel_from_source

ACCEPTED = sorted((Path(__file__).parent / "hostile_specs" / "accepted").glob("*.cell"))
#: Factors of the generated gates: exponentials whose products overflow to inf·0 unless
#: combined, and the saturating functions the built-in cells use.
FACTORS = [
    "exp(a)",
    "exp(-a)",
    "exp(2 * a)",
    "exp(-exp(a))",
    "exp(-exp(-a))",
    "exp(-2 * exp(a))",
    "exp(-0.5 * exp(-a))",
    "exp(-exp(a)) ** 2",
    "tanh(a)",
    "sigmoid(a)",
    "sigmoid(-a)",
]


def _generated_spec(factors: list[str], tmp: Path, name: str) -> Path:
    text = (
        f"cell {name}\ninput x\nstate h output\nparam W\nparam b\n"
        "a = W @ [h_prev, x] + b\n"
        f"g = {' * '.join(factors)}\n"
        "h = g * tanh(a) + sigmoid(a) * h_prev\n"
    )
    path = tmp / f"{name}.cell"
    path.write_text(text, encoding="utf-8")
    return path


def _kernel_of(spec_file: Path) -> ModuleType:
    cell = user_artifacts(spec_file)
    return kernel_from_source(cell.files[f"{cell.spec.name}.py"], cell.spec.name)


def _nonfinite_gradients(kernel: ModuleType, scale: float, seed: int) -> list[str] | None:
    """Names of non-finite gradients at pre-activations up to ``scale`` (None: forward not finite).

    Biases (and peepholes) are drawn from [−scale, scale] and weights so that W·[h, x] adds at
    most scale/4: pre-activations a = W·[h, x] + b reach |a| ≈ scale (|x| ≤ 1; |h| ≤ 1 for
    the cells whose state is bounded).
    """
    rng = np.random.default_rng(seed)
    input_size, hidden_size = 3, 4
    params = kernel.init_params(input_size=input_size, hidden_size=hidden_size, seed=seed)
    for value in params.values():
        limit = scale / (4 * value.shape[1]) if value.ndim == 2 else scale
        value[...] = rng.uniform(-limit, limit, value.shape)
    xs = rng.uniform(-1, 1, (4, 2, input_size))
    with np.errstate(all="ignore"):
        hs, state, cache = kernel.forward(xs, params)
        if not (np.isfinite(hs).all() and all(np.isfinite(v).all() for v in state.values())):
            return None
        grads = kernel.backward(np.ones_like(hs), cache)
    return sorted(name for name, value in grads.items() if not np.isfinite(value).all())


@pytest.mark.parametrize("cell", builtin_cell_names())
@pytest.mark.parametrize("scale", [10.0, 1e3])
def test_builtin_gradients_stay_finite_at_large_pre_activations(cell, scale):
    """Every built-in kernel: finite forward at |a| up to 1e3 means finite gradients."""
    for seed in range(3):
        assert _nonfinite_gradients(load_kernel(cell), scale, seed) in (None, [])


@pytest.mark.parametrize("spec", ACCEPTED, ids=[p.stem for p in ACCEPTED])
def test_accepted_hostile_specs_pass_gradcheck(spec):
    """Each accepted hostile spec generates a kernel that passes every gradcheck check."""
    cell = user_artifacts(spec)
    report = check_kernel(cell.files[f"{cell.spec.name}.py"], cell.spec.name, spec=cell.spec)
    assert report.ok, [r.name for r in report.results if not r.ok]


@pytest.mark.parametrize("spec", ACCEPTED, ids=[p.stem for p in ACCEPTED])
def test_accepted_hostile_specs_stay_finite_at_large_pre_activations(spec):
    """Each accepted hostile spec: finite forward at |a| up to 1e3 means finite gradients."""
    kernel = _kernel_of(spec)
    for seed in range(4):
        assert _nonfinite_gradients(kernel, 1e3, seed) in (None, [])


def test_the_issue_gate_is_finite_and_zero_where_exp_overflows(tmp_path):
    """g = exp(-exp(a)) at a = 750: forward 0 and every gradient finite (it was all NaN)."""
    kernel = _kernel_of(ACCEPTED[[p.stem for p in ACCEPTED].index("gumbel_gate")])
    params = kernel.init_params(input_size=2, hidden_size=3, seed=0)
    params["b"][...] = 750.0
    with np.errstate(all="ignore"):
        hs, _, cache = kernel.forward(np.ones((3, 2, 2)), params)
        grads = kernel.backward(np.ones_like(hs), cache)
    assert np.isfinite(hs).all()
    assert all(np.isfinite(value).all() for value in grads.values())


@settings(max_examples=12)
@given(
    factors=st.lists(st.sampled_from(FACTORS), min_size=1, max_size=3),
    scale=st.sampled_from([30.0, 800.0, 1e3]),
    seed=st.integers(0, 2**16),
)
def test_generated_gates_have_finite_gradients_where_forward_is_finite(
    tmp_path_factory, factors, scale, seed
):
    """A gate made of products of exp, sigmoid and tanh: finite forward, finite gradients."""
    spec = _generated_spec(factors, tmp_path_factory.mktemp("corpus"), "generated")
    parse_spec_file(spec)  # the corpus is made of legal specs
    assert _nonfinite_gradients(_kernel_of(spec), scale, seed) in (None, [])
