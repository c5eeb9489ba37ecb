"""Train a next-character model on the Bob / Dan / navy sentences with lstm_sym's kernels.

Everything is NumPy and lstm_sym's public pieces: a two-layer :class:`lstm_sym.layers.Stack` of
the generated ``lstm`` kernel, run on whole sentences of different lengths (``lengths``), a
softmax read-out (:mod:`lstm_sym.training.readout`), Adam with global-norm clipping
(:mod:`lstm_sym.training.optim`) and a model file (:mod:`lstm_sym.training.io`). The model is
saved, loaded back, and the loaded copy completes the prompts.

The committed results of the "Train a model" page were produced by::

    python examples/train_char_model.py --out docs/train

which writes ``docs/train/results.json`` and ``docs/train/loss.svg`` (about a minute on two
cores). ``--model PATH`` keeps the trained model file (otherwise it goes to a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

# The matrices here are small (batch 32, H = 96): one BLAS thread is fastest, and on a busy
# machine extra threads mostly spin. Set the variables yourself to override.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402  (after the thread settings, which numpy reads on import)

from lstm_sym.layers import Stack  # noqa: E402
from lstm_sym.training import (  # noqa: E402
    Adam,
    clip_global_norm,
    init_readout,
    load,
    readout_loss,
    save,
)
from lstm_sym.training.readout import readout_logits  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "bob_and_dan.txt"
COMMAND = "python examples/train_char_model.py --out docs/train"
#: Marks the start of a sentence in the inputs and its end in the targets.
BOUNDARY = "\n"
PROMPTS = (
    "Bob is brave; he is a ",
    "Dan is evil; he is a ",
    "Bob served in the ",
    "Bob knows ",
    "Dan does not know ",
    "I live in Gujarat and I know ",
    "The forget gate decides ",
)


def read_sentences(path: Path) -> list[str]:
    """Return the non-empty lines of the corpus."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def encode_batch(
    sentences: list[str], index: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-hot inputs (T, B, V), next-character targets (T, B) and lengths (B,).

    Sentence ``s`` is read as ``BOUNDARY + s`` and must predict ``s + BOUNDARY``.
    """
    lengths = np.array([len(s) + 1 for s in sentences])
    T, B, V = int(lengths.max()), len(sentences), len(index)
    xs = np.zeros((T, B, V), np.float32)
    targets = np.zeros((T, B), np.int64)
    for b, sentence in enumerate(sentences):
        inputs = BOUNDARY + sentence
        for t, (char, following) in enumerate(zip(inputs, sentence + BOUNDARY, strict=True)):
            xs[t, b, index[char]] = 1.0
            targets[t, b] = index[following]
    return xs, targets, lengths


def complete(
    stack: Stack,
    params: dict[str, np.ndarray],
    readout: dict[str, np.ndarray],
    vocabulary: str,
    prompt: str,
    max_chars: int = 40,
) -> str:
    """Greedy completion of ``prompt`` until the end of the sentence (or ``max_chars``)."""
    index = {char: i for i, char in enumerate(vocabulary)}
    V = len(vocabulary)
    text = BOUNDARY + prompt
    xs = np.zeros((len(text), 1, V), np.float32)
    xs[np.arange(len(text)), 0, [index[c] for c in text]] = 1.0
    outputs, state, _ = stack.forward(xs, params)
    completion = ""
    for _ in range(max_chars):
        char = vocabulary[int(np.argmax(readout_logits(outputs[-1, 0], readout)))]
        if char == BOUNDARY:
            break
        completion += char
        x = np.zeros((1, 1, V), np.float32)
        x[0, 0, index[char]] = 1.0
        outputs, state, _ = stack.forward(x, params, state)
    return completion


def plot_loss(steps: list[int], losses: list[float], path: Path) -> None:
    """Write the training loss (per step and its running mean) as an SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "lstm_sym", "svg.fonttype": "path"})
    window = min(20, len(losses))
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    figure, axes = plt.subplots(figsize=(6.4, 3.6))
    axes.plot(steps, losses, color="#9fa8da", linewidth=0.8, label="loss of each batch")
    axes.plot(
        steps[window - 1 :],
        smooth,
        color="#283593",
        linewidth=2,
        label=f"mean of the last {window}",
    )
    axes.set_xlabel("Adam step")
    axes.set_ylabel("cross-entropy per character (nats)")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(frameon=False)
    figure.tight_layout()
    figure.savefig(path, format="svg", metadata={"Date": None})
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=None, help="write results.json and loss.svg here"
    )
    parser.add_argument("--model", type=Path, default=None, help="keep the model file at this path")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--hidden-size", type=int, default=96)
    parser.add_argument("--num-layers", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)

    sentences = read_sentences(CORPUS)
    vocabulary = "".join(sorted(set("".join(sentences)) | {BOUNDARY}))
    index = {char: i for i, char in enumerate(vocabulary)}
    V = len(vocabulary)
    stack = Stack("lstm", V, arguments.hidden_size, num_layers=arguments.num_layers)
    params = stack.init_params(seed=arguments.seed, dtype=np.float32)
    for key in params:
        if key.endswith(".b_f"):
            params[key][...] = 1.0  # start with the forget gates open
    readout = init_readout(stack.output_size, V, seed=arguments.seed + 1, dtype=np.float32)
    model = {**params, **{f"readout.{k}": v for k, v in readout.items()}}
    optimiser = Adam(model, lr=arguments.lr)
    rng = np.random.default_rng(arguments.seed)

    print(f"{len(sentences)} sentences, {sum(map(len, sentences))} characters, vocabulary {V}")
    print(f"{stack!r}: {sum(p.size for p in model.values())} parameters")
    losses: list[float] = []
    started = time.perf_counter()
    for step in range(1, arguments.steps + 1):
        chosen = rng.choice(len(sentences), size=arguments.batch_size, replace=False)
        xs, targets, lengths = encode_batch([sentences[i] for i in chosen], index)
        outputs, _, cache = stack.forward(xs, params, lengths=lengths)
        mask = np.arange(xs.shape[0])[:, None] < lengths[None, :]
        result = readout_loss(outputs, readout, targets, mask)
        grads, _ = stack.backward(result.dh, cache)
        grads.update({f"readout.{k}": v for k, v in result.grads.items()})
        optimiser.step(clip_global_norm(grads, arguments.clip))
        losses.append(result.loss)
        if step % 50 == 0 or step == 1:
            print(f"step {step:4d}  loss {np.mean(losses[-50:]):.3f}")
    seconds = time.perf_counter() - started

    meta = {**stack.meta(), "vocabulary": vocabulary, "readout": "readout."}
    with tempfile.TemporaryDirectory() as folder:
        path = arguments.model or Path(folder) / "char_model.npz"
        save(path, model, meta)
        loaded, loaded_meta = load(path, expect=stack.meta())
    loaded_stack = Stack(
        loaded_meta["cell"],
        loaded_meta["input_size"],
        loaded_meta["hidden_size"],
        loaded_meta["num_layers"],
        loaded_meta["bidirectional"],
    )
    loaded_params = {k: v for k, v in loaded.items() if not k.startswith("readout.")}
    loaded_readout = {k.split(".", 1)[1]: v for k, v in loaded.items() if k.startswith("readout.")}
    completions = {
        prompt: complete(
            loaded_stack, loaded_params, loaded_readout, loaded_meta["vocabulary"], prompt
        )
        for prompt in PROMPTS
    }
    print(f"trained in {seconds:.1f} s; completions of the saved and reloaded model:")
    for prompt, completion in completions.items():
        print(f"  {prompt}[{completion}]")

    if arguments.out is not None:
        arguments.out.mkdir(parents=True, exist_ok=True)
        results = {
            "command": COMMAND if arguments.out == Path("docs/train") else " ".join(sys.argv),
            "corpus": "examples/bob_and_dan.txt",
            "sentences": len(sentences),
            "characters": sum(map(len, sentences)),
            "vocabulary_size": V,
            "model": {**stack.meta(), "parameters": int(sum(p.size for p in model.values()))},
            "training": {
                "steps": arguments.steps,
                "batch_size": arguments.batch_size,
                "optimiser": f"Adam lr={arguments.lr}, global-norm clip {arguments.clip}",
                "dtype": "float32",
                "seed": arguments.seed,
                "seconds": round(seconds, 1),
            },
            "loss_first_50": round(float(np.mean(losses[:50])), 4),
            "loss_last_50": round(float(np.mean(losses[-50:])), 4),
            "losses": [round(x, 4) for x in losses],
            "completions": completions,
        }
        (arguments.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
        plot_loss(list(range(1, len(losses) + 1)), losses, arguments.out / "loss.svg")
        print(f"wrote {arguments.out / 'results.json'} and {arguments.out / 'loss.svg'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
