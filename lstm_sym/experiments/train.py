"""Train one generated kernel on the long-context task and measure what it learned.

Everything runs through the kernel's own ``forward``/``backward`` (training) and
``step``/``step_backward`` (gradients with respect to every hidden state); the read-out and the
optimiser are the public pieces of :mod:`lstm_sym.training`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from ..training.optim import Adam, clip_global_norm
from ..training.readout import init_readout, readout_loss, softmax
from .initialisation import apply_init
from .task import Batch, LongContextTask

__all__ = [
    "RunResult",
    "TrainConfig",
    "accuracy",
    "init_model",
    "state_gradient_norms",
    "train",
]


@dataclass(frozen=True)
class TrainConfig:
    """Sizes, optimiser and stopping settings shared by every cell, filler length and seed.

    Attributes
    ----------
    hidden_size : int
        ``H`` of every cell.
    batch_size : int
        Sequences per training step, drawn fresh at every step.
    steps : int
        Largest number of optimiser steps per run.
    lr : float
        Adam step size.
    betas : tuple of float
        Adam ``(beta1, beta2)``.
    eps : float
        Adam epsilon.
    clip : float
        Largest global gradient norm (kernel and read-out parameters together).
    check_every : int
        Steps between checkpoints, at which the accuracy on the validation set is recorded.
    stop_after : int
        Stop early once this many consecutive checkpoints were perfect (accuracy 1.0 on
        the validation set); 0 never stops early.
    validation_size : int
        Held-out sequences of the checkpoints (learning curves, early stop).
    test_size : int
        Held-out sequences of the reported accuracy, measured once after the last step.
    n_classes : int
        ``K`` of the task.
    n_fillers_vocab : int
        ``V`` of the task.
    dtype : str
        ``"float32"`` or ``"float64"``: the dtype of training (diagnostics run in float64).
    """

    hidden_size: int = 32
    batch_size: int = 64
    steps: int = 1000
    lr: float = 1e-2
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    clip: float = 1.0
    check_every: int = 100
    stop_after: int = 3
    validation_size: int = 500
    test_size: int = 1000
    n_classes: int = 8
    n_fillers_vocab: int = 16
    dtype: str = "float32"

    def task(self, n_filler: int) -> LongContextTask:
        """Return the task with ``n_filler`` filler tokens and this config's ``K`` and ``V``."""
        return LongContextTask(n_filler, self.n_classes, self.n_fillers_vocab)


@dataclass
class RunResult:
    """The outcome of one training run.

    Attributes
    ----------
    accuracy : float
        Accuracy on the test set after the last step.
    final_loss : float
        Mean training loss over the last ``check_every`` steps.
    steps_run : int
        Optimiser steps made (fewer than ``config.steps`` after an early stop).
    curve_steps : list of int
        Steps of the checkpoints.
    curve_accuracy : list of float
        Validation accuracy at those steps.
    initial : dict
        Kernel and read-out parameters before training (copies).
    trained : dict
        Kernel and read-out parameters after training.
    """

    accuracy: float
    final_loss: float
    steps_run: int = 0
    curve_steps: list[int] = field(default_factory=list)
    curve_accuracy: list[float] = field(default_factory=list)
    initial: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    trained: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


def init_model(
    kernel: ModuleType, task: LongContextTask, config: TrainConfig, seed: int, init: str
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Draw the kernel's parameters (its own ``init_params``, then ``init``) and the read-out.

    Parameters
    ----------
    kernel : module
        A generated kernel.
    task : LongContextTask
        Gives the input size ``D``, the number of classes ``K`` and ``T_max = N + 2``.
    config : TrainConfig
        Gives ``H`` and the dtype.
    seed : int
        Seed of every draw.
    init : str
        A gate-bias initialisation of :mod:`~lstm_sym.experiments.initialisation`.

    Returns
    -------
    params : dict of str to numpy.ndarray
        Independent arrays of ``config.dtype``, keyed by ``kernel.PARAMETER_NAMES``.
    readout : dict of str to numpy.ndarray
        ``"W_y"`` (K, H) and ``"b_y"`` (K,).
    """
    dtype = np.dtype(config.dtype)
    drawn = kernel.init_params(task.input_size, config.hidden_size, seed=seed, dtype=dtype)
    params = {name: np.array(drawn[name], dtype=dtype) for name in kernel.PARAMETER_NAMES}
    apply_init(kernel.CELL, params, init, task.length, np.random.default_rng([seed, 3]))
    rng = np.random.default_rng([seed, 1])
    readout = init_readout(config.hidden_size, task.n_classes, rng)
    return params, {name: value.astype(dtype) for name, value in readout.items()}


def accuracy(
    kernel: ModuleType,
    params: dict[str, np.ndarray],
    readout: dict[str, np.ndarray],
    batch: Batch,
) -> float:
    """Fraction of ``batch`` whose most probable class after the last step is the label."""
    dtype = next(iter(params.values())).dtype
    hs, _, _ = kernel.forward(batch.xs.astype(dtype, copy=False), params)
    p = softmax(hs[-1] @ readout["W_y"].T + readout["b_y"])
    return float(np.mean(np.argmax(p, axis=1) == batch.labels))


def _copy(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: value.copy() for name, value in arrays.items()}


def train(
    kernel: ModuleType,
    n_filler: int,
    seed: int,
    config: TrainConfig,
    validation: Batch,
    test: Batch,
    init: str = "default",
) -> RunResult:
    """Train ``kernel`` plus a softmax read-out with Adam on fresh batches.

    Every ``config.check_every`` steps the accuracy on ``validation`` is recorded; the run
    stops once ``config.stop_after`` consecutive checkpoints were perfect, or after
    ``config.steps`` steps. The reported accuracy is measured once on ``test`` at the end.

    Parameters
    ----------
    kernel : module
        A generated kernel (``forward``, ``backward``, ``init_params``, ``PARAMETER_NAMES``).
    n_filler : int
        ``N`` of the task.
    seed : int
        Seed of the parameters and of the training batches.
    config : TrainConfig
    validation, test : Batch
        Held-out sequences of the same task, never trained on.
    init : str
        Gate-bias initialisation (see :func:`init_model`).

    Returns
    -------
    RunResult
    """
    task = config.task(n_filler)
    params, readout = init_model(kernel, task, config, seed, init)
    initial = {"params": _copy(params), "readout": _copy(readout)}
    everything = {**params, **{f"readout.{k}": v for k, v in readout.items()}}
    optimiser = Adam(everything, lr=config.lr, betas=config.betas, eps=config.eps)
    rng = np.random.default_rng([seed, 2])
    params_dtype = np.dtype(config.dtype)
    every = max(1, config.check_every)
    losses: list[float] = []
    result = RunResult(accuracy=0.0, final_loss=0.0)
    perfect_in_a_row = 0
    step = 0
    for step in range(1, config.steps + 1):
        batch = task.sample(config.batch_size, rng)
        hs, _, cache = kernel.forward(batch.xs.astype(params_dtype), params)
        loss, read_grads, dh, _ = readout_loss(hs[-1], readout, batch.labels)
        dhs = np.zeros_like(hs)
        dhs[-1] = dh
        grads = kernel.backward(dhs, cache)
        all_grads = {name: grads[name] for name in params}
        all_grads.update({f"readout.{k}": read_grads[k] for k in readout})
        optimiser.step(clip_global_norm(all_grads, config.clip))
        losses.append(loss)
        if step % every == 0 or step == config.steps:
            score = accuracy(kernel, params, readout, validation)
            result.curve_steps.append(step)
            result.curve_accuracy.append(score)
            perfect_in_a_row = perfect_in_a_row + 1 if score == 1.0 else 0
            if config.stop_after > 0 and perfect_in_a_row >= config.stop_after:
                break
    result.steps_run = step
    result.accuracy = accuracy(kernel, params, readout, test)
    result.final_loss = float(np.mean(losses[-every:]))
    result.initial = initial
    result.trained = {"params": params, "readout": readout}
    return result


def state_gradient_norms(
    kernel: ModuleType,
    params: dict[str, np.ndarray],
    readout: dict[str, np.ndarray],
    batch: Batch,
) -> dict[str, np.ndarray]:
    """Norm of the gradient of each sequence's loss with respect to every state, by step.

    The cell is run with ``step`` and the gradient chained back with ``step_backward``, so
    ``∂ℓ/∂h_t`` is the total gradient (through every later step) of the per-sequence
    cross-entropy ``ℓ`` read out after the last step.

    Parameters
    ----------
    kernel : module
        A generated kernel.
    params, readout : dict of str to numpy.ndarray
        The model.
    batch : Batch
        Sequences, ``xs`` (T, B, D).

    Returns
    -------
    dict of str to numpy.ndarray
        For every name in ``kernel.STATE_NAMES``, shape (T,): entry ``t`` is the mean over the
        batch of ``‖∂ℓ/∂s_t‖`` for the state after step ``t`` (0-based); the last entry is at
        distance 0 from the read-out.
    """
    xs = batch.xs
    T, B, _ = xs.shape
    state: dict[str, np.ndarray] | None = None
    caches: list[dict[str, Any]] = []
    for t in range(T):
        state, cache = kernel.step(xs[t], state, params)
        caches.append(cache)
    assert state is not None
    dh = readout_loss(state[kernel.OUTPUT_STATE], readout, batch.labels).dh
    dstate = {name: np.zeros_like(state[name]) for name in kernel.STATE_NAMES}
    dstate[kernel.OUTPUT_STATE] = dh * B  # per-sequence loss, not the batch mean
    norms = {name: np.empty(T) for name in kernel.STATE_NAMES}
    for t in range(T - 1, -1, -1):
        for name in kernel.STATE_NAMES:
            norms[name][t] = float(np.mean(np.linalg.norm(dstate[name], axis=1)))
        if t > 0:
            grads = kernel.step_backward(dstate, caches[t])
            dstate = {name: grads[name + "_prev"] for name in kernel.STATE_NAMES}
    return norms
