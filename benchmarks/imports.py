"""Benchmark: what a kernel pays to import insats before it can build a dashboard or a report.

Every dashboard viewer and every batch worker starts a kernel, and the imports are most of its start
(issue 16). Two import savings are measured against a baseline in the same run:

* jsonschema's optional IRI format check (``rfc3987_syntax``, compiled at import), which insats marks
  absent (``insats/__init__.py``);
* ``statsmodels.api`` (every statsmodels model and its plotting) instead of the one GLM module used.

The baseline process imports those two first, as the kernel did before; the current process does
not. Each is a fresh ``python -c`` (processor time of the child, median of ``--runs``, alternating).

    .venv/bin/python benchmarks/imports.py [--runs 7] [--module insats.dashboards.jamfor]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time


def child_seconds(code: str) -> tuple[float, float]:
    """Wall and processor seconds of ``python -c code``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--module", default="insats.dashboards.jamfor")
    args = ap.parse_args()
    variants = {
        "före (rfc3987_syntax och statsmodels.api)": f"import rfc3987_syntax, statsmodels.api; import {args.module}",
        "nu": f"import {args.module}",
    }
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in variants}
    child_seconds(variants["nu"])  # warm the file cache
    for _ in range(args.runs):
        for name, code in variants.items():
            results[name].append(child_seconds(code))
    print(f"import {args.module}, median av {args.runs} nya processer (belastning {os.getloadavg()[0]:.1f}):")
    med = {}
    for name, rows in results.items():
        wall = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        med[name] = cpu
        print(f"  {name:45s} processortid {cpu:5.2f} s, väggtid {wall:5.2f} s")
    before, now = med.values()
    print(f"  kvot före/nu (processortid): {before / now:.2f}")


if __name__ == "__main__":
    main()
