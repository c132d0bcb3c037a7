"""Distance to the labour market of the generated persons (``personer.arbetsmarknadsavstand``), with the
planted effect that persons in the middle get an intervention more often than those nearest to or furthest
from the labour market (Sundbyberg's press release, 2016).

The model (constants in ``model.DISTANCE``):

* ``P(distance | hinder group, z, long-term)``: a multinomial logit around the hinder group's shares, moved
  towards *långt* in disadvantaged areas (higher ``z``) and for long-term recipients;
* ``logit P(any intervention | distance) = logit(rate) + insats_logit[distance] + c``, where ``rate`` is the
  person's probability of any participation given area and hinder group (``sannolikhet_deltagande``) and ``c``
  is solved per person so that averaging over the distance gives ``rate`` back: the planted area and group
  rates are unchanged.

The generator has already drawn whether each person gets an intervention (``got``) from ``rate``. Drawing
the distance from ``P(distance | got)`` (Bayes' rule with the two parts above) gives the same joint
distribution as drawing the distance first and then the intervention, without changing any other value: the
draws come from a stream of their own, ``numpy.random.default_rng([seed, 17])``.
"""

from __future__ import annotations

import numpy as np

from insats.intake.synth.draws import choose_rows, expit
from insats.intake.synth.model import DISTANCE

DISTANCE_STREAM = 17
"""Second element of the seed of the distance's own random stream (``default_rng([seed, 17])``)."""


def distance_probabilities(group: np.ndarray, z: np.ndarray, long: np.ndarray) -> np.ndarray:
    """``P(distance | hinder group, z, long-term)``: an (n, 3) matrix, columns ``DISTANCE["koder"]``."""
    base = np.log(np.array([DISTANCE["andelar"][g] for g in group], dtype=float).reshape(len(group), 3))
    logits = (
        base
        + np.asarray(z, float)[:, None] * np.array(DISTANCE["z_logit"])
        + np.asarray(long, float)[:, None] * np.array(DISTANCE["langvarig_logit"])
    )
    w = np.exp(logits - logits.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True)


def intervention_probabilities(rate: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """``P(any intervention | distance)`` per person and distance: ``logit(rate) + insats_logit + c`` with ``c``
    found by bisection so that ``Σ prior · P = rate`` (the mean over the distances keeps the person's rate)."""
    r = np.clip(np.asarray(rate, float), 1e-9, 1 - 1e-9)
    beta = np.array([DISTANCE["insats_logit"][d] for d in DISTANCE["koder"]])
    base = np.log(r / (1 - r))[:, None] + beta
    lo, hi = np.full(len(r), -30.0), np.full(len(r), 30.0)
    for _ in range(60):  # the mean is increasing in c; 60 halvings of 60 leave < 1e-16
        mid = (lo + hi) / 2
        too_high = (prior * expit(base + mid[:, None])).sum(axis=1) > r
        hi = np.where(too_high, mid, hi)
        lo = np.where(too_high, lo, mid)
    return expit(base + ((lo + hi) / 2)[:, None])


def labour_market_distance(
    seed: int, group: np.ndarray, z: np.ndarray, long: np.ndarray, rate: np.ndarray, got: np.ndarray
) -> np.ndarray:
    """The distance code per person, drawn given whether the person got an intervention (``got``, drawn with
    probability ``rate``), from its own stream ``default_rng([seed, DISTANCE_STREAM])``."""
    rng = np.random.default_rng([int(seed), DISTANCE_STREAM])
    prior = distance_probabilities(group, z, long)
    q = intervention_probabilities(rate, prior)
    got = np.asarray(got, bool)[:, None]
    post = prior * np.where(got, q, 1 - q)
    return np.array(DISTANCE["koder"], dtype=object)[choose_rows(rng, post)]
