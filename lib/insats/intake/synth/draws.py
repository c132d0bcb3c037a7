"""Small vectorised random draws shared by the generator's modules (one stream: ``numpy.random.Generator``)."""

from __future__ import annotations

import numpy as np


# --------------------------------------------------------------------------- helpers
def expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def choose_rows(rng, probs: np.ndarray) -> np.ndarray:
    """Index of a categorical draw per row of a (n, k) probability matrix."""
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    u = rng.random(len(probs))[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def choose(rng, codes: list[str], p: list[float], n: int) -> np.ndarray:
    probs = np.asarray(p, float)
    return np.asarray(codes, dtype=object)[rng.choice(len(codes), size=n, p=probs / probs.sum())]


def make_ids(prefix: str, n: int, start: int = 1) -> np.ndarray:
    """``prefix`` + zero-padded numbers (at least 7 digits): ``P0000001``, ``P0000002``, ...

    Vectorised: the numbers are offset by a power of ten and the leading ``1`` replaced by the
    one-letter prefix.
    """
    width = max(7, len(str(start + n)))
    text = (np.arange(start, start + n, dtype=np.int64) + 10**width).astype(f"U{width + 1}")
    chars = text.view(np.uint32).reshape(n, width + 1).copy()
    chars[:, 0] = ord(prefix)
    return chars.view(f"U{width + 1}").ravel().astype(object)
