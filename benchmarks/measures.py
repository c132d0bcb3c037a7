"""Benchmark: every measure on a national-size synthetic study (default 500,000 persons).

Prints wall time, peak memory and rows per second for

1. loading the study from Parquet (``insats.data.load.load_study``: reading, typing, validation);
2. all measures (``insats.analysis.measures.compute_measures``, pandas/numpy as used now);
3. the heaviest join — assistance months × persons → adult recipients and long-term shares per
   area — done two ways in this same process: the numpy person × month panel that
   ``measures.Context`` uses, against DuckDB SQL over the same DataFrames (the best alternative
   we found worth trying; Polars is not a dependency). Both must give the same numbers; the
   ratio says whether moving the joins to DuckDB would pay.

Usage::

    .venv/bin/python benchmarks/measures.py [--persons 500000] [--seed 1] [--repeat 3]

The study is generated once into ``build/bench/`` (Parquet) and reused. "peak +mem" is how much
the phase raised the process's resident memory above what it held before (sampled every 10 ms,
so it includes numpy's and Arrow's buffers); the process's peak resident set size is printed last.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    """Resident set size of this process in bytes (Linux /proc; includes Arrow's buffers)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


def timed(fn, repeat: int):
    """Median wall time over ``repeat`` runs; peak memory the runs added on top of what the
    process held before (resident set size sampled every 10 ms by a thread); last result."""
    times, peaks = [], []
    result = None
    for _ in range(repeat):
        result = None
        base = rss()
        peak = [base]
        done = threading.Event()

        def sample(done=done, peak=peak):
            while not done.wait(0.01):
                peak[0] = max(peak[0], rss())

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
        done.set()
        th.join()
        peaks.append(max(peak[0], rss()) - base)
    return statistics.median(times), max(peaks), result


def langvarigt_numpy(study, year: int) -> pd.Series:
    """Long-term share per area for one calendar year, via measures.Context's panel."""
    from insats.analysis.measures import Context, Params

    ctx = Context(study, Params(start=pd.Timestamp(year, 1, 1), end=pd.Timestamp(year, 12, 1)))
    a = ctx.month_index(pd.Timestamp(year, 1, 1))
    months = ctx.panel[:, a : a + 12].sum(axis=1)
    adult = (year - ctx.birth_year[:-1]) >= 18
    sel = (months > 0) & adult
    frame = pd.DataFrame({"area": ctx.person_area[:-1][sel], "long": months[sel] >= 10})
    return frame.groupby("area")["long"].mean().sort_index()


def langvarigt_duckdb(study, year: int) -> pd.Series:
    """The same with DuckDB SQL over the loaded DataFrames (a hash join and a group by)."""
    import duckdb

    con = duckdb.connect()
    con.execute("PRAGMA threads=2")
    con.register("bistand", study["bistand"][["person_id", "manad"]])
    con.register("personer", study["personer"][["person_id", "omrade_kod", "fodelsear"]])
    df = con.execute(
        """
        WITH m AS (
            SELECT b.person_id, count(DISTINCT b.manad) AS n
            FROM bistand b
            WHERE year(b.manad) = ?
            GROUP BY b.person_id
        )
        SELECT p.omrade_kod AS area, avg(CASE WHEN m.n >= 10 THEN 1.0 ELSE 0.0 END) AS long
        FROM m JOIN personer p USING (person_id)
        WHERE ? - p.fodelsear >= 18
        GROUP BY p.omrade_kod
        """,
        [year, year],
    ).df()
    con.close()
    return df.set_index("area")["long"].sort_index()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=500_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")

    from insats.analysis.measures import compute_measures
    from insats.data.load import load_study
    from insats.intake.synth import generate

    data = ROOT / "build" / "bench" / f"stockholm_{args.persons}_{args.seed}"
    if not (data / "studie.json").exists():
        t = time.perf_counter()
        generate("stockholm", data, seed=args.seed, persons=args.persons, fmt="parquet")
        print(f"generated {data} in {time.perf_counter() - t:.1f} s")
    import statsmodels.api  # noqa: F401  (import cost is paid once per process, not per run)

    t_load, m_load, study = timed(lambda: load_study(data, cache=False), 1)  # validation, not the copy
    rows = sum(len(t) for t in study.tables.values())
    print(f"study: {args.persons:,} persons, " + ", ".join(f"{k} {len(v):,}" for k, v in study.tables.items()))
    print(f"load        {t_load:7.2f} s   peak +mem  {m_load / 2**30:5.2f} GB   {rows / t_load:12,.0f} rows/s")

    t_all, m_all, res = timed(lambda: compute_measures(study), args.repeat)
    print(
        f"measures    {t_all:7.2f} s   peak +mem  {m_all / 2**30:5.2f} GB   {rows / t_all:12,.0f} rows/s"
        f"   ({res.table['matt'].nunique()} measures, {len(res.table)} rows; target < 10 s, < 4 GB)"
    )

    year = int(study["bistand"]["manad"].dt.year.min())
    t_np, m_np, a = timed(lambda: langvarigt_numpy(study, year), args.repeat)
    t_db, m_db, b = timed(lambda: langvarigt_duckdb(study, year), args.repeat)
    same = np.allclose(a.to_numpy(), b.reindex(a.index).to_numpy())
    print(f"heavy join, numpy panel   {t_np:6.2f} s   peak +mem  {m_np / 2**30:5.2f} GB")
    print(f"heavy join, DuckDB SQL    {t_db:6.2f} s   peak +mem  {m_db / 2**30:5.2f} GB   same result: {same}")
    print(f"ratio DuckDB / numpy panel: {t_db / t_np:.2f}  (>1: the panel is faster)")
    print(f"peak resident memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
