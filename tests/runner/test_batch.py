"""Batch runs (insats run, insats.runner.batch): parallel runs, resume, failures, timeouts, Dask."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from insats.cli import main
from insats.runner import batch
from insats.runner.batch import progress_line, run_batch
from insats.runner.config import load_params
from insats.runner.execute import run_report
from insats.runner.tasks import ReportTask
from tests.support import FIXTURES

NOTEBOOKS = FIXTURES / "notebooks"

OMRADEN = """omrade_kod,omrade,kommun_kod,kommun,ar,folkmangd
01,Rinkeby-Kista,0180,Stockholm,2013,48000
02,Spånga-Tensta,0180,Stockholm,2013,38000
03,Hässelby-Vällingby,0180,Stockholm,2013,70000
"""

EXTERNAL = re.compile(r"""<(script|link)\b[^>]*\b(src|href)\s*=\s*["']?\s*(https?:)?//""", re.IGNORECASE)


@pytest.fixture(autouse=True)
def light_kernels(monkeypatch):
    """Tests pre-import only what the test notebooks import (altair alone takes seconds)."""
    monkeypatch.setattr(batch, "DEFAULT_PREIMPORTS", ("pandas", "insats.data.load"))


def make_project(tmp: Path, *, extra: str = "", korning: str = "") -> Path:
    """A repository root with params/run.yaml, a 3-area study and copies of the test notebooks."""
    (tmp / "params").mkdir(parents=True, exist_ok=True)
    (tmp / "data" / "s").mkdir(parents=True, exist_ok=True)
    (tmp / "data" / "s" / "omraden.csv").write_text(OMRADEN, encoding="utf-8")
    (tmp / "notebooks").mkdir(exist_ok=True)
    for name in ("studie", "profil"):
        shutil.copy(NOTEBOOKS / f"{name}.ipynb", tmp / "notebooks" / f"{name}.ipynb")
    write_params(tmp, extra=extra, korning=korning)
    return tmp / "params" / "run.yaml"


def write_params(tmp: Path, *, extra: str = "", korning: str = "") -> Path:
    text = f"""data_dir: data/s
fran: "2012-01"
till: "2013-12"
min_cell: 5
{extra}
korning:
  namn: test
  notebooks: [studie]
  profil: profil
  omraden: alla
  timeout: 60
  pdf: false
{"" if "publicering:" in korning else "  publicering: false"}
{korning}
"""
    path = tmp / "params" / "run.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def statuses(result) -> dict[str, str]:
    return {r["namn"]: r["status"] for r in result.records}


ALL = ["studie", "profil_01", "profil_02", "profil_03"]


# --------------------------------------------------------------------------- runs
@pytest.mark.slow
def test_run_skip_force_and_partial_rerun(tmp_path, capsys):
    params = make_project(tmp_path)
    cfg = load_params(params)
    lines: list[str] = []
    result = run_batch(cfg, workers=2, on_report=lambda i, n, rec: lines.append(progress_line(i, n, rec)))
    assert statuses(result) == dict.fromkeys(ALL, "ok")
    assert result.exit_code == 0
    out = cfg.out_dir
    for name in ALL:
        assert (out / f"{name}.html").is_file() and (out / f"{name}.ipynb").is_file()
    # progress lines, Swedish, with decimal comma, one per report
    assert len(lines) == 4 and any(re.fullmatch(r"\[\d/4\] profil 02  ok  \d+,\d s", line) for line in lines)

    # papermill-style output notebook
    nb = nbformat.read(out / "profil_02.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'omrade = "02"' in injected[0].source
    assert str(tmp_path.resolve() / "data" / "s") in injected[0].source
    assert nb.metadata.papermill["parameters"]["omrade"] == "02"
    assert nb.metadata.papermill["input_path"].endswith("profil.ipynb")
    assert nb.metadata.papermill["exception"] is None
    assert all(c.metadata["papermill"]["status"] == "completed" for c in nb.cells)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "Spånga-Tensta 38000" in text
    assert f"cwd {tmp_path.resolve() / 'notebooks'}" in text  # kernel works in the notebook's folder

    # offline HTML without code, and the index
    html = (out / "profil_02.html").read_text(encoding="utf-8")
    assert not EXTERNAL.search(html)
    assert "Spånga-Tensta 38000" in html and "read_table(data_dir" not in html
    index = (out / "index.html").read_text(encoding="utf-8")
    assert not EXTERNAL.search(index)
    for name in ALL:
        assert f"href='{name}.html'" in index
    run = json.loads((out / "korning.json").read_text(encoding="utf-8"))
    assert run["klar"] and run["sammanfattning"] == {"ok": 4, "fel": 0, "överhoppad": 0}
    assert run["data"]["filer"].keys() == {"omraden.csv"}
    assert run["paket"]["insats"]
    assert {r["namn"]: r["indata"]["notebook_sha256"] for r in run["rapporter"]}

    # unchanged: everything skipped
    again = run_batch(load_params(params), workers=2)
    assert statuses(again) == dict.fromkeys(ALL, "överhoppad")
    assert "överhoppad" in (out / "korning.html").read_text(encoding="utf-8")
    # --force reruns everything
    forced = run_batch(load_params(params), workers=2, force=True)
    assert statuses(forced) == dict.fromkeys(ALL, "ok")
    # a changed study notebook reruns only the study report
    nb_path = tmp_path / "notebooks" / "studie.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("Ny slutsats."))
    nbformat.write(nb, nb_path)
    changed = run_batch(load_params(params), workers=2)
    assert statuses(changed) == {
        "studie": "ok",
        "profil_01": "överhoppad",
        "profil_02": "överhoppad",
        "profil_03": "överhoppad",
    }
    # --only reruns just that area (with --force); a changed input file reruns all
    only = run_batch(load_params(params), workers=1, only=["03"], force=True)
    assert statuses(only) == {
        "studie": "överhoppad",
        "profil_01": "överhoppad",
        "profil_02": "överhoppad",
        "profil_03": "ok",
    }
    (tmp_path / "data" / "s" / "omraden.csv").write_text(OMRADEN.replace("38000", "38100"), encoding="utf-8")
    rerun = run_batch(load_params(params), workers=2)
    assert set(statuses(rerun).values()) == {"ok"}
    assert "Spånga-Tensta 38100" in (out / "profil_02.html").read_text(encoding="utf-8")
    # a parameter only the study notebook declares reruns only the study report, and says so
    write_params(tmp_path, extra="fokus_omrade: '01'")
    param = run_batch(load_params(params), workers=2)
    assert statuses(param) == {
        "studie": "ok",
        "profil_01": "överhoppad",
        "profil_02": "överhoppad",
        "profil_03": "överhoppad",
    }
    assert param.record("studie")["orsak"] == "parametrarna fokus_omrade har ändrats"
    assert "fokus_omrade" not in param.record("profil_01")["parametrar"]


@pytest.mark.slow
def test_failure_and_timeout_do_not_stop_the_others(tmp_path):
    pid_file = tmp_path / "pid.txt"
    params = make_project(tmp_path)
    cfg = load_params(params)
    assert run_batch(cfg, workers=1, only=["02"]).exit_code == 0
    good_html = (cfg.out_dir / "profil_02.html").read_text(encoding="utf-8")

    write_params(
        tmp_path,
        extra=f'fel_omrade: "02"\nsov_omrade: "03"\nsov_sekunder: 120\npid_fil: {str(pid_file)!r}',
        korning="  cell_timeout: 6\n",
    )
    assert main(["run", str(params), "--workers", "2", "--quiet"]) == 1  # non-zero exit when a report failed

    run = json.loads((cfg.out_dir / "korning.json").read_text(encoding="utf-8"))
    recs = {r["namn"]: r for r in run["rapporter"]}
    assert {n: r["status"] for n, r in recs.items()} == {
        "studie": "ok",
        "profil_01": "ok",
        "profil_02": "fel",
        "profil_03": "fel",
    }
    err = recs["profil_02"]["fel"]
    assert err["typ"] == "ValueError" and "avsiktligt fel för 02" in err["meddelande"]
    assert err["cell"] == 6 and err["kalla"].startswith("if omrade == fel_omrade")
    timeout = recs["profil_03"]["fel"]
    assert timeout["typ"] == "CellTimeoutError" and timeout["cell"] == 7
    assert recs["profil_03"]["sekunder"] < 40
    # the kernel that hung was killed
    pid = int(pid_file.read_text())
    for _ in range(50):
        if not _alive(pid):
            break
        import time

        time.sleep(0.1)
    assert not _alive(pid)
    # the good HTML from the earlier run is kept; the failed run is next to it
    assert (cfg.out_dir / "profil_02.html").read_text(encoding="utf-8") == good_html
    assert (cfg.out_dir / "profil_02.fel.html").is_file()
    index = (cfg.out_dir / "korning.html").read_text(encoding="utf-8")
    assert "ValueError" in index and "avsiktligt fel för 02" in index and "cell 6" in index
    assert "CellTimeoutError" in index and "fel" in index
    assert not EXTERNAL.search((cfg.out_dir / "profil_02.fel.html").read_text(encoding="utf-8"))

    # the failed reports are rerun next time (never skipped), the good ones are not
    write_params(tmp_path, extra=f'sov_omrade: "03"\nsov_sekunder: 0\npid_fil: {str(pid_file)!r}')
    fixed = run_batch(load_params(params), workers=2, only=["02"])
    assert fixed.record("profil_02")["status"] == "ok"
    assert not (cfg.out_dir / "profil_02.fel.html").exists()


def test_wall_clock_timeout_kills_kernel(tmp_path):
    pid_file = tmp_path / "pid.txt"
    task = ReportTask(
        name="sov",
        notebook=str(NOTEBOOKS / "profil.ipynb"),
        cwd=str(NOTEBOOKS),
        timeout=4,
        cell_timeout=100,
        parameters={
            "data_dir": str(tmp_path),
            "omrade": "01",
            "sov_omrade": "01",
            "sov_sekunder": 100,
            "pid_fil": str(pid_file),
        },
        preimports=("pandas",),
    )
    outcome = run_report(task)
    assert outcome.status == "fel" and outcome.error["typ"] == "Tidsgräns"
    assert outcome.error["cell"] == 7 and outcome.seconds < 30
    assert not _alive(int(pid_file.read_text()))


def test_no_variable_leak_between_reports_on_a_reused_kernel(tmp_path):
    (tmp_path / "omraden.csv").write_text(OMRADEN, encoding="utf-8")

    def task(area):
        return ReportTask(
            name=f"p{area}",
            notebook=str(NOTEBOOKS / "profil.ipynb"),
            cwd=str(tmp_path),
            parameters={"data_dir": str(tmp_path), "omrade": area},
            preimports=("pandas",),
        )

    first = run_report(task("01"))
    second = run_report(task("02"))
    assert first.status == second.status == "ok"
    assert second.kernel_reused  # same kernel ...
    nb1, nb2 = (nbformat.reads(o.notebook, as_version=4) for o in (first, second))
    leak_cell = next(i for i, c in enumerate(nb2.cells) if "leaked" in c.source)
    assert "läcka: False" in nb1.cells[leak_cell].outputs[0]["text"]
    assert "läcka: False" in nb2.cells[leak_cell].outputs[0]["text"]  # ... but no leak
    # execution counts start over, as in a fresh kernel
    counts = [c.execution_count for c in nb2.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_statuses(tmp_path):
    distributed = pytest.importorskip("distributed")
    params = make_project(tmp_path, extra='fel_omrade: "02"')
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = run_batch(load_params(params), scheduler=cluster.scheduler_address)
    assert statuses(result) == {"studie": "ok", "profil_01": "ok", "profil_02": "fel", "profil_03": "ok"}
    assert result.exit_code == 1
    assert result.record("profil_02")["fel"]["typ"] == "ValueError"
    run = json.loads(result.korning_json.read_text(encoding="utf-8"))
    assert run["schemalaggare"].startswith("tcp://")
    assert (result.out_dir / "profil_03.html").is_file()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return True


def _fake_reports(pause: float):
    """A stand-in for the local pool: every report ok at once (or ``pause`` seconds apart)."""
    import time

    from insats.runner.tasks import OK, ReportOutcome, now_iso

    def run_local(jobs, workers):
        for job in jobs:
            time.sleep(pause)
            yield ReportOutcome(job.task.name, OK, 0.01, now_iso(), now_iso(), notebook="{}", html="<p>ok</p>")

    return run_local


@pytest.mark.parametrize(("every", "pause", "writes"), [(3600.0, 0.0, 3), (0.05, 0.3, 3 + len(ALL))])
def test_run_record_is_rewritten_at_most_every_few_seconds_and_complete_at_the_end(
    tmp_path, monkeypatch, every, pause, writes
):
    """``korning.json`` (with the front page) is written at the start, after the last report and at
    the end, and between those after a finished report only once ``SAVE_EVERY`` has passed: a run
    over thousands of reports does not rewrite the record of all of them after each one."""
    params = make_project(tmp_path, korning="  publicering: false")
    monkeypatch.setattr(batch, "_run_local", _fake_reports(pause))
    monkeypatch.setattr(batch, "SAVE_EVERY", every)
    monkeypatch.setattr(batch, "SAVE_SHARE", 1.0)
    written: list[dict] = []
    real_write = batch.atomic_write

    def counting_write(path, text):
        if Path(path).name == "korning.json":
            written.append(json.loads(text))
        return real_write(path, text)

    monkeypatch.setattr(batch, "atomic_write", counting_write)
    result = run_batch(load_params(params))
    assert statuses(result) == dict.fromkeys(ALL, "ok")
    assert len(written) == writes
    # each writing is a whole record; the statuses only ever fill in, and the last has every report
    done = [sum(r["status"] == "ok" for r in w["rapporter"]) for w in written]
    assert done == sorted(done) and done[-1] == len(ALL)
    on_disk = json.loads((result.out_dir / "korning.json").read_text(encoding="utf-8"))
    assert on_disk == written[-1] and on_disk["klar"] is True
    assert {r["namn"]: r["status"] for r in on_disk["rapporter"]} == dict.fromkeys(ALL, "ok")
