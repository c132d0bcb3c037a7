"""Benchmark: the cost of the joint disclosure control (issue 12: within 10 % of a full run).

Measured in one process, on one loaded study (default: the Stockholm example, ``data/exempel/stockholm``):

1. **separate** — every publication period's measures protected on its own
   (``compute_measures`` per period: the per-table protection the joint model replaced);
2. **joint** — the study's publication (``reports.publication.study_publication``): the same
   periods decided together, with the years related to the whole period, each profile's rest of
   the study and (for a study with an utvärdering) its tables, by one secondary suppression;
3. with ``--run``, a full ``insats run`` of ``params/stockholm_2013.yaml`` (kartläggning and 14
   profiles, no PDFs, into a temporary folder), so the joint model's added time can be stated as a
   share of the run it is part of.

Usage::

    .venv/bin/python benchmarks/disclosure.py [--data data/exempel/stockholm] [--repeat 3] [--run]

The caches that keep measures and publications between calls are cleared before each repetition.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from insats.analysis.measures import compute_measures  # noqa: E402  (after the sys.path line above)
from insats.analysis.publication import data_years, publication_periods  # noqa: E402  (after the sys.path line above)
from insats.data.load import load_study  # noqa: E402  (after the sys.path line above)
from insats.reports import publication as report_publication  # noqa: E402  (after the sys.path line above)


def median_time(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        report_publication._CACHE.clear()  # a fresh publication each time
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "exempel" / "stockholm")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--min-cell", type=int, default=5)
    ap.add_argument("--run", action="store_true", help="also time a full insats run of params/stockholm_2013.yaml")
    args = ap.parse_args()

    study = load_study(args.data, cache=False)
    periods = publication_periods(*data_years(study))
    print(f"Studie {args.data.name}: {len(study['personer']):,} personer, {len(periods)} publiceringsperioder")

    def separate():
        return [compute_measures(study, start=s, end=e, min_cell=args.min_cell) for s, e in periods]

    def joint():
        return report_publication.study_publication(study, min_cell=args.min_cell)

    t_sep, results = median_time(separate, args.repeat)
    t_joint, pub = median_time(joint, args.repeat)
    hidden_sep = sum(int(r.table["undertryckt"].sum()) for r in results)  # type: ignore[union-attr]
    cells = len(pub.disclosure.cells)  # type: ignore[union-attr]
    print(f"var period för sig:  {t_sep:6.2f} s  ({hidden_sep} dolda rader)")
    print(f"gemensam publicering: {t_joint:6.2f} s  ({cells} antal i modellen)")
    print(f"tillägg: {t_joint - t_sep:+.2f} s  (kvot {t_joint / t_sep:.2f})")
    if args.run:
        from insats.runner.batch import run_batch
        from insats.runner.config import load_params

        with tempfile.TemporaryDirectory() as tmp:
            config = load_params(ROOT / "params" / "stockholm_2013.yaml")
            config.pdf = False
            config.reports_root = Path(tmp)
            t = time.perf_counter()
            result = run_batch(config, force=True)
            t_run = time.perf_counter() - t
        print(f"hel körning (insats run, {len(result.records)} rapporter): {t_run:6.1f} s")
        print(f"den gemensamma röjandekontrollens tillägg: {100 * (t_joint - t_sep) / t_run:+.1f} % av körningen")
    print(f"maskinens belastning: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
