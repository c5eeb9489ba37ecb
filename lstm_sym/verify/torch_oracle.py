"""Check a generated kernel against PyTorch: forward values and autograd gradients.

An independent implementation is the strongest oracle there is: :class:`torch.nn.LSTM`,
:class:`torch.nn.GRU` and :class:`torch.nn.RNN` were written and tested by other people, from
the same equations; they check ``lstm``, ``gru_torch`` and ``rnn``. Every other built-in
cell is checked against a torch transcription of its paper's equations written by hand in
:mod:`lstm_sym.verify.torch_reference` (not generated from our specs), differentiated by
torch autograd. On one random float64
problem (:func:`~lstm_sym.verify.finite_differences.make_problem`: random inputs, a
non-zero initial state, random non-zero loss weights) the kernel and torch compute

* the outputs ``hs`` and the final state, and
* the gradients of ``L = Σ dhs ⊙ hs + Σ_s dstate_s ⊙ state_s`` with respect to every
  parameter, the inputs ``xs`` and the initial state,

and :func:`torch_errors` reports the relative error of each. Both sides use float64, so a
correct kernel agrees to rounding (:data:`TORCH_TOLERANCE`).

Oracles are registered per cell in :data:`ORACLES`; a cell without one raises
:class:`KeyError`. Needs PyTorch (``pip install torch==2.13.0``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

from lstm_sym.verify.finite_differences import GradientProblem, make_problem, relative_error

__all__ = ["ORACLES", "TORCH_TOLERANCE", "torch_errors"]

#: Largest relative error per tensor accepted between a kernel and torch (both float64).
TORCH_TOLERANCE = 1e-10

#: Reference values of one problem: key -> array, keyed like the result of
#: :func:`torch_errors` (``"hs"``, ``"<state>_final"``, parameters, ``"xs"``, ``"<state>0"``).
OracleResult = dict[str, np.ndarray]

#: An oracle: computes, for a problem, the reference forward values and gradients.
Oracle = Callable[[GradientProblem], OracleResult]


def _lstm_oracle(problem: GradientProblem) -> OracleResult:
    """Forward values and gradients of ``problem`` from :class:`torch.nn.LSTM` and autograd."""
    import torch

    from lstm_sym.interop.torch import params_from_torch, params_to_torch, state_to_torch

    if problem.xs.dtype != np.float64:
        raise TypeError(f"the torch oracle needs a float64 problem; got {problem.xs.dtype}")
    module = params_to_torch(problem.params)
    xs = torch.tensor(problem.xs, requires_grad=True)
    h0, c0 = state_to_torch(problem.state)
    h0.requires_grad_(True)
    c0.requires_grad_(True)
    hs, (h_n, c_n) = module(xs, (h0, c0))
    loss = (
        (torch.tensor(problem.dhs) * hs).sum()
        + (torch.tensor(problem.dstate["h"]) * h_n[0]).sum()
        + (torch.tensor(problem.dstate["C"]) * c_n[0]).sum()
    )
    loss.backward()

    # The gradient of torch's parameters, read through the same layout as the values:
    # a module whose parameters are the gradients maps them to dW_f, ..., db_o. Both torch
    # biases enter the gates as a sum, so db_* is the gradient of bias_ih (equal to
    # that of bias_hh); params_from_torch adds the two, so zero bias_hh's copy.
    grads = params_to_torch(problem.params)
    with torch.no_grad():
        for name, value in module.named_parameters():
            if value.grad is None:
                raise RuntimeError(f"torch computed no gradient for {name}")
            target = getattr(grads, name)
            target.copy_(torch.zeros_like(value) if name == "bias_hh_l0" else value.grad)
    result: OracleResult = dict(params_from_torch(grads))

    def numpy(tensor: torch.Tensor | None) -> np.ndarray:
        if tensor is None:
            raise RuntimeError("torch computed no gradient for an input")
        array: np.ndarray = tensor.detach().numpy().copy()
        return array

    result["hs"] = numpy(hs)
    result["h_final"] = numpy(h_n[0])
    result["C_final"] = numpy(c_n[0])
    result["xs"] = numpy(xs.grad)
    result["h0"] = numpy(h0.grad)[0]
    result["C0"] = numpy(c0.grad)[0]
    return result


def _numpy(tensor: torch.Tensor | None) -> np.ndarray:
    if tensor is None:
        raise RuntimeError("torch computed no gradient for an input")
    array: np.ndarray = tensor.detach().numpy().copy()
    return array


def _check_float64(problem: GradientProblem) -> None:
    if problem.xs.dtype != np.float64:
        raise TypeError(f"the torch oracle needs a float64 problem; got {problem.xs.dtype}")


def _gru_torch_oracle(problem: GradientProblem) -> OracleResult:
    """Forward values and gradients of ``problem`` from :class:`torch.nn.GRU` and autograd."""
    import torch

    from lstm_sym.interop.torch import (
        gru_params_from_torch,
        gru_params_to_torch,
        gru_state_to_torch,
    )

    _check_float64(problem)
    H = problem.params["W_hn"].shape[0]
    module = gru_params_to_torch(problem.params)
    xs = torch.tensor(problem.xs, requires_grad=True)
    h0 = gru_state_to_torch(problem.state).requires_grad_(True)
    hs, h_n = module(xs, h0)
    loss = (torch.tensor(problem.dhs) * hs).sum() + (
        torch.tensor(problem.dstate["h"]) * h_n[0]
    ).sum()
    loss.backward()
    # Read the gradients through the same layout as the values. For r and z, b_* is the sum
    # of the two torch biases (equal gradients), so zero the bias_hh copy of those rows; the
    # n rows of bias_hh are b_hn itself.
    grads = gru_params_to_torch(problem.params)
    with torch.no_grad():
        for name, value in module.named_parameters():
            if value.grad is None:
                raise RuntimeError(f"torch computed no gradient for {name}")
            gradient = value.grad.clone()
            if name == "bias_hh_l0":
                gradient[: 2 * H] = 0
            getattr(grads, name).copy_(gradient)
    result: OracleResult = dict(gru_params_from_torch(grads))
    result["hs"] = _numpy(hs)
    result["h_final"] = _numpy(h_n[0])
    result["xs"] = _numpy(xs.grad)
    result["h0"] = _numpy(h0.grad)[0]
    return result


def _rnn_oracle(problem: GradientProblem) -> OracleResult:
    """Forward values and gradients of ``problem`` from :class:`torch.nn.RNN` (tanh).

    The kernel's ``W_h`` (H, H + D) and ``b_h`` are leaves of the autograd graph; torch's
    ``weight_hh_l0``, ``weight_ih_l0`` are their column blocks, fed to the module with
    :func:`torch.func.functional_call` so autograd returns the kernel's gradients directly.
    """
    import torch

    _check_float64(problem)
    W_h = torch.tensor(problem.params["W_h"], requires_grad=True)
    b_h = torch.tensor(problem.params["b_h"], requires_grad=True)
    H, D = W_h.shape[0], W_h.shape[1] - W_h.shape[0]
    with torch.random.fork_rng(devices=[]):
        module = torch.nn.RNN(D, H, nonlinearity="tanh", dtype=torch.float64)
    weights = {
        "weight_ih_l0": W_h[:, H:],
        "weight_hh_l0": W_h[:, :H],
        "bias_ih_l0": b_h,
        "bias_hh_l0": torch.zeros(H, dtype=torch.float64),
    }
    xs = torch.tensor(problem.xs, requires_grad=True)
    h0 = torch.tensor(problem.state["h"]).unsqueeze(0).requires_grad_(True)
    hs, h_n = torch.func.functional_call(module, weights, (xs, h0))
    loss = (torch.tensor(problem.dhs) * hs).sum() + (
        torch.tensor(problem.dstate["h"]) * h_n[0]
    ).sum()
    loss.backward()
    return {
        "W_h": _numpy(W_h.grad),
        "b_h": _numpy(b_h.grad),
        "hs": _numpy(hs),
        "h_final": _numpy(h_n[0]),
        "xs": _numpy(xs.grad),
        "h0": _numpy(h0.grad)[0],
    }


def _reference_oracle(cell: str) -> Oracle:
    """An oracle running the hand-written torch reference of ``cell`` under autograd."""

    def oracle(problem: GradientProblem) -> OracleResult:
        import torch

        from lstm_sym.verify.torch_reference import REFERENCES

        _check_float64(problem)
        params = {k: torch.tensor(v, requires_grad=True) for k, v in problem.params.items()}
        state = {k: torch.tensor(v, requires_grad=True) for k, v in problem.state.items()}
        xs = torch.tensor(problem.xs, requires_grad=True)
        hs, final = REFERENCES[cell](xs, params, state)
        terms = [(torch.tensor(problem.dhs) * hs).sum()]
        terms += [(torch.tensor(problem.dstate[n]) * v).sum() for n, v in final.items()]
        torch.autograd.backward(torch.stack(terms).sum())
        result: OracleResult = {name: _numpy(value.grad) for name, value in params.items()}
        result["hs"] = _numpy(hs)
        for name, value in final.items():
            result[f"{name}_final"] = _numpy(value)
        result["xs"] = _numpy(xs.grad)
        for name, value in state.items():
            result[f"{name}0"] = _numpy(value.grad)
        return result

    oracle.__name__ = f"_{cell}_reference_oracle"
    oracle.__doc__ = f"Forward values and gradients of a problem from the torch reference {cell}."
    return oracle


#: Cells checked against a hand-written torch reference (lstm_sym.verify.torch_reference).
_REFERENCE_CELLS = (
    "gru",
    "coupled_lstm",
    "peephole_lstm",
    "lstm_nig",
    "lstm_nfg",
    "lstm_nog",
    "lstm_niaf",
    "lstm_noaf",
    "lstm_cifg",
    "lstm_fgr",
)

#: Oracle per cell name (``kernel.CELL``).
ORACLES: dict[str, Oracle] = {
    "lstm": _lstm_oracle,
    "rnn": _rnn_oracle,
    "gru_torch": _gru_torch_oracle,
    **{cell: _reference_oracle(cell) for cell in _REFERENCE_CELLS},
}


def torch_errors(
    kernel_module: ModuleType,
    *,
    steps: int = 4,
    batch: int = 3,
    input_size: int = 3,
    hidden_size: int = 5,
    seed: int = 0,
) -> dict[str, float]:
    """Compare a kernel's forward pass and gradients with PyTorch on one random problem.

    Parameters
    ----------
    kernel_module : module
        A generated kernel module whose ``CELL`` has an entry in :data:`ORACLES`.
    steps, batch, input_size, hidden_size : int
        ``T``, ``B``, ``D``, ``H`` of the problem.
    seed : int
        Seed of the problem (see :func:`~lstm_sym.verify.finite_differences.make_problem`).

    Returns
    -------
    dict of str to float
        Relative error ``‖a − n‖ / max(‖a‖, ‖n‖)`` per tensor: ``"hs"`` (T, B, H),
        ``"<state>_final"`` for each state (B, H), the gradient of every parameter,
        ``"xs"`` (T, B, D) and ``"<state>0"`` for each state (B, H).

    Raises
    ------
    KeyError
        If there is no torch oracle for ``kernel_module.CELL``.
    ImportError
        If PyTorch is not installed.
    """
    cell = getattr(kernel_module, "CELL", None)
    if cell not in ORACLES:
        raise KeyError(
            f"no torch oracle for cell {cell!r} (kernel {kernel_module.__name__}); "
            f"cells with one: {sorted(ORACLES)}"
        )
    problem = make_problem(
        kernel_module,
        steps=steps,
        batch=batch,
        input_size=input_size,
        hidden_size=hidden_size,
        seed=seed,
        dtype=np.float64,
    )
    reference = ORACLES[cell](problem)
    hs, final, _ = kernel_module.forward(problem.xs, problem.params, problem.state)
    ours: dict[str, np.ndarray] = {"hs": hs}
    for name, value in final.items():
        ours[f"{name}_final"] = value
    ours.update(problem.gradients())
    missing = sorted(set(ours) ^ set(reference))
    if missing:
        raise RuntimeError(f"kernel and oracle disagree on the tensors compared: {missing}")
    return {name: relative_error(ours[name], reference[name]) for name in ours}
