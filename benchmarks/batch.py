"""Benchmarks of batch runs (issue 18): ratios against a baseline measured in the same run.

``profiles``
    The 14 district profiles of a generated Stockholm study (25,000 persons) two ways, each from a
    cold start (no validated copy of the study): (a) for each area ``papermill NB OUT.ipynb -f
    params.yaml -p omrade KOD`` and ``jupyter nbconvert --to html --no-input OUT.ipynb``, one after
    the other; (b) ``insats run params.yaml`` (the command, in a subprocess, like (a)), five times
    (``RUNS``): before (a), after each quarter of it and after it, so that a change of the
    machine's speed during the minutes (a) takes reaches both sides. Prints every wall time and the
    ratio of (a) to the median run of (b) (target ≥ 15×); also each run of (b) against the reports
    of (a) timed nearest to it (the half of them around the run, scaled to all 14), and the median
    of those ratios.
``medel``
    The kartläggning and the 14 profiles with ``insats run``; then ``medel`` changes and the run is
    repeated, then ``avslut`` changes and it is repeated again. Prints which reports ran each time
    and why (only the reports that read the changed table may run).
``load``
    The 500,000-person study (Parquet, as ``benchmarks/measures.py`` makes it in ``build/bench/``):
    load with validation as before (``load_study(cache=False)``), the first load that also writes
    the validated copy (in the background: the time until the study is returned, and until the
    copy is on disk), and the load from the copy (target < 1.5 s, first load not slower).
``kommuner``
    ``--count`` generated municipalities (``insats generate kommuner``), the kartläggning and every
    profile of each, with the local pool of 2 workers and on a Dask cluster of 2 local worker
    processes: the same reports (names, statuses and outputs apart from times), and the cluster's
    overhead.

    python benchmarks/batch.py [profiles|medel|load|kommuner|all] [--count 20] [--persons N]

Everything is written to a temporary folder, except the 500,000-person study (reused).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NOTEBOOKS = ROOT / "notebooks"
PROFILE = NOTEBOOKS / "omradesprofil.ipynb"
STUDY_NB = NOTEBOOKS / "kartlaggning.ipynb"
COPY = ".insats-kopia"
RUNS = 5
"""Timed runs of ``insats run`` in ``profiles``, spread evenly from before the baseline to after it."""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("INSATS_CACHE_DIR", None)  # the copy beside the study, as users get it
    return env


def _params(work: Path, name: str, data: dict, korning: dict) -> Path:
    (work / "params").mkdir(exist_ok=True)
    path = work / "params" / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**data, "korning": {"namn": name, **korning}}, allow_unicode=True), "utf-8")
    return path


def _children_cpu() -> float:
    """Processor time (user + system) of every finished child process and their children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _insats_run(params: Path, *extra: str) -> float:
    t = time.perf_counter()
    subprocess.run(
        [str(BIN / "insats"), "run", str(params), "--quiet", *extra],
        check=True,
        env=_env(),
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - t


def _korning(work: Path, name: str) -> dict:
    return json.loads((work / "reports" / name / "korning.json").read_text(encoding="utf-8"))


def _stockholm(work: Path, persons: int | None) -> Path:
    from insats.intake.synth import generate

    t = time.perf_counter()
    data = generate("stockholm", work / "data" / "stockholm", persons=persons)
    print(f"genererad studie: {data} ({time.perf_counter() - t:.1f} s)")
    return data


def bench_profiles(work: Path, persons: int | None) -> None:
    from insats.runner.plan import discover_areas

    data = _stockholm(work, persons)
    areas = list(discover_areas(data))
    base = {"data_dir": str(data), "fran": "2012-01", "till": "2013-12", "min_cell": 5}
    # the same work on both sides: the baseline prints no PDFs and writes no publication record
    korning = {"profil": str(PROFILE), "omraden": areas, "timeout": 900, "pdf": False, "publicering": False}
    pfile = _params(work, "profiler", base, korning)
    print(f"notebook: {PROFILE.relative_to(ROOT)}  rapporter: {len(areas)}")

    out = work / "papermill"
    out.mkdir()

    def cold_run() -> tuple[float, float, dict]:
        """(b) from a cold start: wall time, processor time and the run's record."""
        shutil.rmtree(data / COPY, ignore_errors=True)
        cpu = _children_cpu()
        t_run = _insats_run(pfile, "--force")
        return t_run, _children_cpu() - cpu, _korning(work, "profiler")

    # (b) is run RUNS times spread evenly over (a), from before it to after it, so that a change in
    # the machine's speed during the minutes (a) takes reaches both sides; the median run is compared
    n = len(areas)
    places = [round(k * n / (RUNS - 1)) for k in range(RUNS)]  # before report i (n: after the last)
    runs = []
    t_pm = cpu_pm = 0.0
    each: list[float] = []  # (a)'s wall time per report, in the order they ran
    for i, code in enumerate(areas):
        runs.extend(cold_run() for _ in range(places.count(i)))
        if i == 0:  # the baseline starts cold too: its first report makes the validated copy
            shutil.rmtree(data / COPY, ignore_errors=True)
        t, cpu = time.perf_counter(), _children_cpu()
        ipynb = out / f"omradesprofil_{code}.ipynb"
        subprocess.run(
            [str(BIN / "papermill"), str(PROFILE), str(ipynb), "-f", str(pfile), "-p", "omrade", code]
            + ["--no-progress-bar"],
            check=True,
            capture_output=True,
            cwd=NOTEBOOKS,
            env=_env(),
        )
        subprocess.run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(ipynb)],
            check=True,
            capture_output=True,
            env=_env(),
        )
        each.append(time.perf_counter() - t)
        t_pm, cpu_pm = t_pm + each[-1], cpu_pm + _children_cpu() - cpu
    print(
        f"(a) papermill + nbconvert, sekventiellt: {t_pm:.1f} s ({t_pm / len(areas):.2f} s/rapport), "
        f"processortid {cpu_pm:.1f} s"
    )
    runs.extend(cold_run() for _ in range(places.count(n)))
    # each run of (b) also against the half of (a)'s reports timed nearest to it, scaled to all
    # reports: the machine's speed then is the same on both sides
    half = n // 2
    near = [each[min(max(0, at - half // 2), n - half) :][:half] for at in places]
    labels = ["före (a)", *(f"efter {at} av {n} rapporter i (a)" for at in places[1:-1]), "efter (a)"]
    local = []
    for label, (t_run, cpu_run, run), part in zip(labels, runs, near, strict=True):
        bad = [r["namn"] for r in run["rapporter"] if r["status"] != "ok"]
        steady = sorted(r["sekunder"] for r in run["rapporter"])[len(areas) // 2]
        local.append(statistics.fmean(part) * n / t_run)
        print(
            f"(b) insats run {label} ({run['arbetare']} arbetare, kall start): {t_run:.1f} s, processortid "
            f"{cpu_run:.1f} s, {t_pm / t_run:.1f}× mot hela (a), {local[-1]:.1f}× mot de närmaste rapporterna "
            f"({statistics.fmean(part):.2f} s/rapport) (median {steady:.2f} s per rapport i en kärna)"
            f"{'  FEL: ' + ', '.join(bad) if bad else ''}"
        )
    t_run, cpu_run, _ = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
    t_warm = _insats_run(pfile, "--force")
    print(f"    insats run --force igen (validerad kopia finns): {t_warm:.1f} s")
    print(
        f"förhållande (a)/(b), mittersta körningen: {t_pm / t_run:.1f}× i väggtid (mål ≥ 15×), "
        f"{cpu_pm / cpu_run:.1f}× i processortid; mot de närmaste rapporterna: "
        f"{', '.join(f'{x:.1f}×' for x in local)}, median {statistics.median(local):.1f}×"
    )
    print(f"maskinens belastning (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


def bench_medel(work: Path, persons: int | None) -> None:
    data = _stockholm(work, persons)
    base = {"data_dir": str(data), "fran": "2012-01", "till": "2013-12", "min_cell": 5, "fokus_omrade": None}
    pfile = _params(
        work, "kartlaggning", base, {"notebooks": [str(STUDY_NB)], "profil": str(PROFILE), "omraden": "alla"}
    )
    t_all = _insats_run(pfile)
    first = _korning(work, "kartlaggning")["rapporter"]
    n = len(first)
    print(f"alla {n} rapporter: {t_all:.1f} s")
    for kind in ("studie", "profil"):
        read = sorted({t for r in first if r["typ"] == kind for t in _tables(r)})
        print(f"    {kind}rapporterna läser: {', '.join(read)}")
    t_same = _insats_run(pfile)
    print(f"oförändrat, igen: {t_same:.1f} s, körda: {_ran(work)}")
    for table, old, new in (("medel", ",feriejobb,", ",kurs,"), ("avslut", ",arbete", ",studier")):
        path = data / f"{table}.csv"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        t = _insats_run(pfile)
        run = _korning(work, "kartlaggning")
        ran = _ran(work)
        readers = [r["namn"] for r in run["rapporter"] if table in _tables(r)]
        print(
            f"efter ändrad {table}: {t:.1f} s, {len(ran)} av {n} körda; de som läser {table}: {len(readers)}; "
            f"samma: {sorted(ran) == sorted(readers)}"
        )
        reasons = sorted({r["orsak"] for r in run["rapporter"] if r["status"] == "ok"})
        print(f"    orsak: {'; '.join(reasons) or '–'}")
    # a parameter only the kartläggning declares
    text = pfile.read_text(encoding="utf-8").replace("fokus_omrade: null", "fokus_omrade: rinkeby_kista")
    pfile.write_text(text, encoding="utf-8")
    t = _insats_run(pfile)
    ran = _ran(work)
    print(f"efter ändrad parameter fokus_omrade: {t:.1f} s, körda: {', '.join(ran)}")


def _ran(work: Path) -> list[str]:
    return [r["namn"] for r in _korning(work, "kartlaggning")["rapporter"] if r["status"] == "ok"]


def _tables(record: dict) -> set[str]:
    return {t for dep in (record.get("lasta") or {}).values() for t in (dep.get("tabeller") or {})}


_LOAD_ONE = """
import json, shutil, sys, time
from pathlib import Path
from insats.data import validated
from insats.data.load import load_study
data, mode = Path(sys.argv[1]), sys.argv[2]
if mode != "copy":
    shutil.rmtree(data / ".insats-kopia", ignore_errors=True)
checking = []
check_study = validated.check_study
def timed_check(path):  # the validation itself, to tell it from what the copy adds
    t = time.perf_counter()
    try:
        return check_study(path)
    finally:
        checking.append(time.perf_counter() - t)
validated.check_study = timed_check
t, cpu = time.perf_counter(), time.thread_time()
study = load_study(data, cache=mode != "old")
loaded, cpu = time.perf_counter() - t, time.thread_time() - cpu
validated.wait_for_copies()
rows = sum(map(len, study.tables.values()))
extra = loaded - sum(checking) if checking else None
print(json.dumps({"laddad": loaded, "cpu": cpu, "kopia": time.perf_counter() - t, "rader": rows, "tillagt": extra}))
"""


def _load_once(data: Path, mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_ONE, str(data), mode], check=True, capture_output=True, text=True, env=_env()
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_load(persons: int, repeat: int = 5) -> None:
    from insats.intake.synth import generate

    data = ROOT / "build" / "bench" / f"stockholm_{persons}_1"
    if not data.is_dir():
        t = time.perf_counter()
        generate("stockholm", data, seed=1, persons=persons, fmt="parquet")
        print(f"genererad {data} ({time.perf_counter() - t:.1f} s)")
    runs: dict[str, list[dict]] = {"old": [], "first": [], "copy": []}
    for i in range(repeat):  # alternating order, each in a fresh process: the machine's load hits all alike
        for mode in ("old", "first", "copy") if i % 2 == 0 else ("first", "old", "copy"):
            runs[mode].append(_load_once(data, mode))

    def median(mode: str, key: str = "laddad") -> float:
        return statistics.median(r[key] for r in runs[mode])

    print(f"studie: {persons} personer, {runs['old'][0]['rader']} rader; median av {repeat} körningar var")
    print(f"laddning med validering (som förut):       {median('old'):.2f} s (cpu {median('old', 'cpu'):.2f} s)")
    print(
        f"första laddning (validering, kopia skrivs): {median('first'):.2f} s till studien "
        f"(cpu {median('first', 'cpu'):.2f} s), {median('first', 'kopia'):.2f} s till kopian (i bakgrunden)"
    )
    print(
        f"laddning från den validerade kopian:        {median('copy'):.2f} s (cpu {median('copy', 'cpu'):.2f} s) "
        "(mål < 1,5 s)"
    )
    print(f"maskinens belastning (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"förhållande validering/kopia: {median('old') / median('copy'):.1f}×; "
        f"första/förut: {median('first') / median('old'):.2f} i väggtid, "
        f"{median('first', 'cpu') / median('old', 'cpu'):.2f} i processortid (mål ≤ 1)"
    )
    print(
        f"tid som den första laddningen lägger till valideringen innan studien lämnas: "
        f"{1000 * median('first', 'tillagt'):.1f} ms (kopian skrivs sedan i bakgrunden)"
    )


def _outputs(path: Path) -> str:
    """A report's text outputs without times (the provenance says when it was made)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            for key in ("text", "data"):
                value = o.get(key)
                if isinstance(value, dict):
                    value = "".join(
                        "".join(v) if isinstance(v, list) else str(v) for k, v in value.items() if k != "text/html"
                    )
                parts.append("".join(value) if isinstance(value, list) else str(value or ""))
    return re.sub(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?", "<tid>", "\n".join(parts))


def bench_kommuner(work: Path, count: int, persons: int | None) -> None:
    from distributed import LocalCluster

    from insats.intake.synth import generate_municipalities
    from insats.runner.batch import run_batch
    from insats.runner.config import load_params

    t = time.perf_counter()
    folders = generate_municipalities(work / "data" / "kommuner", count=count, seed=7, persons=persons)
    print(f"{len(folders)} kommuner genererade ({time.perf_counter() - t:.1f} s)")
    base = {"fran": "2012-01", "till": "2013-12", "min_cell": 5, "fokus_omrade": None}
    korning = {"studier": [str(work / "data" / "kommuner" / "*")], "notebooks": [str(STUDY_NB)]}
    korning |= {"profil": str(PROFILE), "omraden": "alla"}
    lokal = _params(work, "lokal", base, korning)
    dask = _params(work, "dask", base, korning)
    os.environ.pop("INSATS_CACHE_DIR", None)
    from insats.data.validated import ensure_validated

    t = time.perf_counter()
    for folder in folders:  # both measured runs find the validated copies
        ensure_validated(folder)
    print(f"validerade kopior: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    local = run_batch(load_params(lokal), workers=2, force=True)
    t_local = time.perf_counter() - t
    t = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        t_start = time.perf_counter() - t
        t = time.perf_counter()
        remote = run_batch(load_params(dask), scheduler=cluster.scheduler_address, force=True)
        t_dask = time.perf_counter() - t
    same_status = {r["namn"]: r["status"] for r in local.records} == {r["namn"]: r["status"] for r in remote.records}
    differ = [
        r["namn"]
        for r in local.records
        if r["status"] == "ok"
        and _outputs(local.out_dir / f"{r['namn']}.ipynb") != _outputs(remote.out_dir / f"{r['namn']}.ipynb")
    ]
    n = len(local.records)
    print(f"{n} rapporter ({count} kommuner: kartläggning och profiler), {local.count('ok')} ok lokalt")
    print(f"lokal pool, 2 arbetare:       {t_local:.1f} s ({t_local / n:.2f} s/rapport)")
    print(
        f"Dask, 2 lokala arbetarprocesser: {t_dask:.1f} s ({t_dask / n:.2f} s/rapport); klustrets start {t_start:.1f} s"
    )
    print(f"klustrets merkostnad: {100 * (t_dask - t_local) / t_local:+.0f} %")
    print(f"samma rapporter och status: {same_status}; olika utdata (utom tider): {differ or 'inga'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", nargs="?", default="all", choices=["profiles", "medel", "load", "kommuner", "all"])
    ap.add_argument("--persons", type=int, default=None, help="size of the generated Stockholm study")
    ap.add_argument("--big", type=int, default=500_000, help="size of the study for 'load'")
    ap.add_argument("--count", type=int, default=20, help="municipalities for 'kommuner'")
    args = ap.parse_args(argv)
    for what in ("profiles", "medel", "load", "kommuner") if args.what == "all" else (args.what,):
        print(f"\n== {what} ==", flush=True)
        work = Path(tempfile.mkdtemp(prefix=f"insats-bench-{what}-"))
        try:
            if what == "profiles":
                bench_profiles(work, args.persons)
            elif what == "medel":
                bench_medel(work, args.persons)
            elif what == "load":
                bench_load(args.big)
            else:
                bench_kommuner(work, args.count, None)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
