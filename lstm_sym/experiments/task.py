"""The lecture's far-context example as a synthetic sequence task.

*I live in Gujarat & I own a garment business here. I know ?* — a sequence opens with one of
``K`` state tokens, continues with ``N`` filler tokens drawn uniformly from a vocabulary that
holds no state, and closes with the query token *I know*. The label is the language of the
opening state. Every token is one-hot, so the input size is ``K + V + 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FILLERS", "LANGUAGES", "QUERY", "STATES", "Batch", "LongContextTask"]

#: The opening tokens: one state per class.
STATES = (
    "Gujarat",
    "Punjab",
    "Kerala",
    "Tamil Nadu",
    "West Bengal",
    "Maharashtra",
    "Karnataka",
    "Odisha",
)
#: The answer for each state, in the order of :data:`STATES`.
LANGUAGES = (
    "Gujarati",
    "Punjabi",
    "Malayalam",
    "Tamil",
    "Bengali",
    "Marathi",
    "Kannada",
    "Odia",
)
#: Filler words: the garment-business clause of the lecture, and a few more of the same kind.
FILLERS = (
    "I",
    "own",
    "a",
    "garment",
    "business",
    "here",
    "and",
    "the",
    "shop",
    "sells",
    "cloth",
    "every",
    "day",
    "to",
    "many",
    "people",
)
#: The closing token at which the model must answer.
QUERY = "I know"


@dataclass(frozen=True)
class Batch:
    """A batch of sequences of the task.

    Attributes
    ----------
    xs : numpy.ndarray, shape (T, B, D)
        One-hot inputs, float64, ``T = N + 2``.
    tokens : numpy.ndarray, shape (T, B)
        Token ids: ``0 .. K-1`` states, ``K .. K+V-1`` fillers, ``K+V`` the query.
    labels : numpy.ndarray, shape (B,)
        Class of every sequence, the index of its opening state (and of its language).
    """

    xs: np.ndarray
    tokens: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True)
class LongContextTask:
    """Sequences ``state, N fillers, query`` labelled with the language of the state.

    Parameters
    ----------
    n_filler : int
        ``N``, the number of filler tokens between the clue and the query.
    n_classes : int
        ``K``, the number of states (and languages), at most ``len(STATES)``; chance is ``1/K``.
    n_fillers_vocab : int
        ``V``, the size of the filler vocabulary, at most ``len(FILLERS)``.
    """

    n_filler: int
    n_classes: int = 8
    n_fillers_vocab: int = 16

    def __post_init__(self) -> None:
        if self.n_filler < 0:
            raise ValueError(f"n_filler must be >= 0; got {self.n_filler}")
        if not 2 <= self.n_classes <= len(STATES):
            raise ValueError(f"n_classes must be in 2..{len(STATES)}; got {self.n_classes}")
        if not 1 <= self.n_fillers_vocab <= len(FILLERS):
            raise ValueError(f"n_fillers_vocab must be in 1..{len(FILLERS)}")

    @property
    def length(self) -> int:
        """``T = N + 2``: the clue, the fillers and the query."""
        return self.n_filler + 2

    @property
    def input_size(self) -> int:
        """``D = K + V + 1``: one one-hot position per token."""
        return self.n_classes + self.n_fillers_vocab + 1

    @property
    def query_id(self) -> int:
        """Token id of the query *I know*."""
        return self.n_classes + self.n_fillers_vocab

    def token_names(self) -> tuple[str, ...]:
        """Return the word of every token id, length ``D``."""
        return STATES[: self.n_classes] + FILLERS[: self.n_fillers_vocab] + (QUERY,)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """Draw ``batch_size`` independent sequences.

        Parameters
        ----------
        batch_size : int
            ``B``.
        rng : numpy.random.Generator
            Source of the labels and the fillers.

        Returns
        -------
        Batch
            ``xs`` (T, B, D), ``tokens`` (T, B), ``labels`` (B,).
        """
        K, V, T = self.n_classes, self.n_fillers_vocab, self.length
        labels = rng.integers(0, K, size=batch_size)
        tokens = np.empty((T, batch_size), dtype=np.int64)
        tokens[0] = labels
        tokens[1 : T - 1] = K + rng.integers(0, V, size=(T - 2, batch_size))
        tokens[T - 1] = self.query_id
        xs = np.zeros((T, batch_size, self.input_size))
        np.put_along_axis(xs, tokens[:, :, np.newaxis], 1.0, axis=2)
        return Batch(xs=xs, tokens=tokens, labels=labels)
