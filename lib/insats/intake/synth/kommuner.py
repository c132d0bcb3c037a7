"""Many generated municipalities of varied size (``insats generate kommuner --count N``), for
testing runs over many studies; see the package docstring."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from insats.errors import UsageError
from insats.intake.synth.catalogue import area_table
from insats.intake.synth.files import check_replaceable, write_study
from insats.intake.synth.tables import generate_tables

MUNICIPALITY_PERSONS = 1_500
"""Median number of persons of a generated municipality (``generate_municipalities``)."""
MAX_MUNICIPALITIES = 999


def generate_municipalities(
    out: Path | str, *, count: int, seed: int = 1, persons: int | None = None, fmt: str = "csv"
) -> list[Path]:
    """Write ``count`` generated municipalities of varied size into ``out/kommun_01`` … (see the
    package docstring) and return their folders. Existing folders are replaced only when they hold
    generated data, as in ``generate``. Deterministic for a seed."""
    if fmt not in ("csv", "parquet"):
        raise UsageError(f"okänt filformat {fmt!r}: välj csv eller parquet")
    if not 1 <= count <= MAX_MUNICIPALITIES:
        raise UsageError(f"antalet kommuner måste vara 1–{MAX_MUNICIPALITIES}, fick {count}")
    median = int(persons if persons is not None else MUNICIPALITY_PERSONS)
    if median < 40:
        raise UsageError("minst 40 personer per kommun behövs (--persons)")
    out = Path(out).resolve()
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} finns redan och är ingen mapp")
    codes = list(area_table("stockholm")["omrade_kod"])
    width = max(2, len(str(count)))
    plans = []
    for i in range(count):
        rng = np.random.default_rng([seed, i])
        k = int(rng.integers(3, len(codes) + 1))
        chosen = sorted(rng.choice(len(codes), size=k, replace=False))
        n = max(10, round(median * float(np.exp(rng.uniform(np.log(0.25), np.log(4.0))))))
        folder = out / f"kommun_{i + 1:0{width}d}"
        check_replaceable(folder)
        plans.append((folder, [codes[j] for j in chosen], n, int(rng.integers(2**31)), i))
    written = []
    for folder, areas, n, study_seed, i in plans:
        kommun = (f"{9001 + i}", f"Exempelkommun {i + 1}")
        tables, meta = generate_tables("stockholm", seed=study_seed, persons=n, area_codes=areas, kommun=kommun)
        meta["typ"] = "kommuner"
        meta["kommun"] = kommun[1]
        meta["serie"] = {"seed": int(seed), "nummer": i + 1, "antal": count}
        written.append(write_study(folder, tables, meta, fmt))
    return written
