"""Benchmark: ``insats run`` against a plain sequential loop of papermill + nbconvert commands.

Runs the same N reports (by default: a profile notebook once per area of a generated Stockholm
study) two ways and prints both wall times and their ratio:

(a) for each area, ``papermill NB OUT.ipynb -f params.yaml -p omrade KOD`` followed by
    ``jupyter nbconvert --to html --no-input OUT.ipynb``, one after the other (subprocesses);
(b) ``insats.runner.batch.run_batch`` in this process (local worker pool, one reused kernel per worker).

    python benchmarks/batch.py [--notebook PATH] [--params PATH] [--areas N] [--workers N]

``--notebook`` defaults to ``notebooks/omradesprofil.ipynb`` when it exists, else the tests'
fixture profile notebook. ``--params`` is a params file whose notebook parameters are used
(its ``korning`` section is replaced); by default the study is generated into a temporary folder.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def default_notebook() -> Path:
    real = REPO / "notebooks" / "omradesprofil.ipynb"
    return real if real.is_file() else REPO / "tests" / "fixtures" / "notebooks" / "profil.ipynb"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notebook", type=Path, default=default_notebook())
    ap.add_argument("--params", type=Path, default=None, help="params file with the notebook parameters")
    ap.add_argument("--areas", type=int, default=None, help="run only the first N areas")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--persons", type=int, default=None, help="size of the generated study")
    ap.add_argument("--skip-papermill", action="store_true", help="only time insats run")
    args = ap.parse_args(argv)

    from insats.runner.batch import discover_areas, run_batch
    from insats.runner.config import load_params, resolve

    work = Path(tempfile.mkdtemp(prefix="insats-bench-"))
    try:
        (work / "params").mkdir()
        if args.params:
            base = yaml.safe_load(args.params.read_text(encoding="utf-8")) or {}
            base.pop("korning", None)
            root = (
                load_params(args.params).root if "korning" in (yaml.safe_load(args.params.read_text()) or {}) else REPO
            )
            if base.get("data_dir"):
                base["data_dir"] = str(resolve(base["data_dir"], root))
        else:
            from insats.intake.synth import generate

            t = time.perf_counter()
            data = generate("stockholm", work / "data", persons=args.persons)
            print(f"genererad studie: {data} ({time.perf_counter() - t:.1f} s)")
            base = {"data_dir": str(data), "fran": "2012-01", "till": "2013-12", "min_cell": 5}
        areas = list(discover_areas(Path(base["data_dir"])))
        if args.areas:
            areas = areas[: args.areas]
        params = dict(base)
        params["korning"] = {"namn": "bench", "profil": str(args.notebook.resolve()), "omraden": areas, "timeout": 900}
        pfile = work / "params" / "bench.yaml"
        pfile.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
        print(f"notebook: {args.notebook}  rapporter: {len(areas)}")

        t_pm = None
        if not args.skip_papermill:
            out = work / "papermill"
            out.mkdir()
            t = time.perf_counter()
            for code in areas:
                ipynb = out / f"profil_{code}.ipynb"
                subprocess.run(
                    [
                        str(BIN / "papermill"),
                        str(args.notebook),
                        str(ipynb),
                        "-f",
                        str(pfile),
                        "-p",
                        "omrade",
                        code,
                        "--no-progress-bar",
                    ],
                    check=True,
                    capture_output=True,
                    cwd=args.notebook.parent,
                )
                subprocess.run(
                    [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(ipynb)],
                    check=True,
                    capture_output=True,
                )
            t_pm = time.perf_counter() - t
            print(f"(a) papermill + nbconvert, sekventiellt: {t_pm:.1f} s  ({t_pm / len(areas):.2f} s/rapport)")

        t = time.perf_counter()
        result = run_batch(load_params(pfile), workers=args.workers, progress=False, force=True)
        t_run = time.perf_counter() - t
        bad = result.failed
        import json

        n_workers = json.loads(result.korning_json.read_text(encoding="utf-8"))["arbetare"]
        print(
            f"(b) insats run ({n_workers} arbetare): {t_run:.1f} s  "
            f"({t_run / len(areas):.2f} s/rapport){'  FEL: ' + ', '.join(bad) if bad else ''}"
        )
        times = [r["sekunder"] for r in result.records if r["sekunder"] is not None]
        if times:
            steady = sorted(times)[len(times) // 2]
            print(f"    median per rapport i en arbetare: {steady:.2f} s")
        if t_pm:
            print(f"förhållande (a)/(b): {t_pm / t_run:.1f}×")
        return 1 if bad else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
