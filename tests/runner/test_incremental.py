"""Issue 18: work once per run, reruns by table, many studies in one run; issue 14 items 6 and 11:
one district never stops the batch, and a killed coordinator leaves nothing running."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from insats.intake.synth import generate
from insats.runner import batch
from insats.runner.batch import run_batch
from insats.runner.config import load_params
from insats.runner.execute import run_report
from insats.runner.inputs import FolderHashes, what_changed
from insats.runner.tasks import ReportTask
from tests.runner.test_batch import NOTEBOOKS, OMRADEN, make_project, statuses

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def light_kernels(monkeypatch):
    monkeypatch.setattr(batch, "DEFAULT_PREIMPORTS", ("pandas", "insats.data.load"))


@pytest.fixture(scope="module")
def small_study(tmp_path_factory) -> Path:
    return generate("stockholm", tmp_path_factory.mktemp("liten") / "studie", seed=11, persons=80)


def _notebook(path: Path, reads: list[str], extra: str = "", show: str = "") -> Path:
    """A study notebook that loads the study as the real ones do and reads ``reads``."""
    params = nbformat.v4.new_code_cell('data_dir = None\nfran = "2012-01"\ntill = "2013-12"\nmin_cell = 5' + extra)
    params.metadata["tags"] = ["parameters"]
    body = nbformat.v4.new_code_cell(
        "from insats.data import validated\n"
        "from insats.data.load import load_cached\n"
        "studie = load_cached(data_dir)\n"
        + "".join(f'print("{t}", len(studie["{t}"]), studie["{t}"].iloc[:, -1].astype(str).iloc[0])\n' for t in reads)
        + (f'print("{show} =", {show})\n' if show else "")
        + 'print("räkning", dict(validated.COUNTS))\n'
    )
    nb = nbformat.v4.new_notebook(cells=[params, body])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _texts(out_dir: Path, name: str) -> str:
    nb = nbformat.read(out_dir / f"{name}.ipynb", as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def _project(tmp: Path, study: Path, korning: str = "", extra: str = "") -> Path:
    (tmp / "params").mkdir(parents=True)
    (tmp / "notebooks").mkdir()
    shutil.copytree(study, tmp / "data" / "s")
    _notebook(tmp / "notebooks" / "las_a.ipynb", ["omraden", "insatser"], "\nfokus = None", show="fokus")
    _notebook(tmp / "notebooks" / "las_b.ipynb", ["omraden", "medel"])
    shutil.copy(NOTEBOOKS / "profil.ipynb", tmp / "notebooks" / "profil.ipynb")
    params = tmp / "params" / "run.yaml"
    params.write_text(
        f"""data_dir: data/s
fran: "2012-01"
till: "2013-12"
{extra}
korning:
  namn: inkr
  notebooks: [las_a, las_b]
  profil: profil
  omraden: [rinkeby_kista, bromma]
  timeout: 120
  pdf: false
  publicering: false
{korning}
""",
        encoding="utf-8",
    )
    return params


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


ALL = ["las_a", "las_b", "profil_rinkeby_kista", "profil_bromma"]


def test_a_change_to_one_table_reruns_only_the_reports_that_read_it(tmp_path, small_study):
    params = _project(tmp_path, small_study)
    first = run_batch(load_params(params), workers=2)
    assert statuses(first) == dict.fromkeys(ALL, "ok")
    run = json.loads(first.korning_json.read_text(encoding="utf-8"))
    folder = str((tmp_path / "data" / "s").resolve())
    recs = {r["namn"]: r for r in run["rapporter"]}
    assert recs["las_a"]["lasta"][folder]["tabeller"] == {"omraden": "omraden.csv", "insatser": "insatser.csv"}
    assert recs["las_b"]["lasta"][folder]["tabeller"] == {"omraden": "omraden.csv", "medel": "medel.csv"}
    assert set(recs["profil_bromma"]["lasta"][folder]["tabeller"]) == {"omraden"}
    assert "studie.json" in recs["las_a"]["lasta"][folder]["filer"]  # the study's metadata counts for all
    assert all(r["orsak"] == "ny rapport: ingen tidigare lyckad körning" for r in recs.values())

    data = tmp_path / "data" / "s"
    # medel: only las_b, with the new numbers, and korning.json says why
    medel = data / "medel.csv"
    lines = medel.read_text(encoding="utf-8").splitlines()
    medel.write_text("\n".join(lines[:-2]) + "\n", encoding="utf-8")
    second = run_batch(load_params(params), workers=2)
    assert statuses(second) == {
        "las_a": "överhoppad",
        "las_b": "ok",
        "profil_rinkeby_kista": "överhoppad",
        "profil_bromma": "överhoppad",
    }
    assert second.record("las_b")["orsak"] == "tabellen medel har ändrats"
    assert f"medel {len(lines) - 3}" in _texts(second.out_dir, "las_b")
    assert second.record("las_a")["orsak"].startswith("oförändrad: läser tabellerna insatser, omraden; inget av")
    # insatser and a parameter only las_a declares: only las_a, with the new value
    _edit(data / "insatser.csv", "Rinkeby-Kista", "Rinkeby–Kista")
    write_params_extra(params, "fokus: rinkeby_kista")
    third = run_batch(load_params(params), workers=2)
    assert [n for n, s in statuses(third).items() if s == "ok"] == ["las_a"]
    assert third.record("las_a")["orsak"] == "parametrarna fokus har ändrats; tabellen insatser har ändrats"
    assert "fokus = rinkeby_kista" in _texts(third.out_dir, "las_a")
    assert set(statuses(run_batch(load_params(params), workers=2)).values()) == {"överhoppad"}
    # studie.json (the metadata of every report) and a new file in the folder: every report
    hashes = FolderHashes()
    last = {r["namn"]: r["lasta"] for r in third.records}
    _edit(data / "studie.json", '"syntetisk": true', '"syntetisk": true, "x": 1')
    (data / "las_mig.txt").write_text("anteckningar\n", encoding="utf-8")
    for name in ALL:
        assert what_changed(last[name], hashes) == [
            "filerna i studien har ändrats (ny fil las_mig.txt)",
            "filen studie.json har ändrats",
        ]
    # omraden, read by all: every report, with the new name
    _edit(data / "omraden.csv", "Bromma", "Bromma stadsdel")
    again = run_batch(load_params(params), workers=2)
    assert set(statuses(again).values()) == {"ok"}, statuses(again)
    assert "tabellen omraden har ändrats" in again.record("profil_bromma")["orsak"]
    assert "Bromma stadsdel" in _texts(again.out_dir, "profil_bromma")


def write_params_extra(params: Path, line: str) -> None:
    text = params.read_text(encoding="utf-8")
    params.write_text(text.replace("korning:", f"{line}\nkorning:", 1), encoding="utf-8")


def test_work_is_done_once_per_kernel_and_never_stale(tmp_path, small_study):
    """Three reports on one kernel: the study is validated once (by the coordinator), read from
    its copy once, then served from memory; a file changed between two reports on the same
    kernel gives the new numbers."""
    params = _project(tmp_path, small_study)
    cfg = load_params(params)
    result = run_batch(cfg, workers=1, only=["las_a", "las_b"])
    counts = [_texts(result.out_dir, n).split("räkning ")[1] for n in ("las_a", "las_b")]
    first, second = (eval(c.strip(), {}) for c in counts)  # a printed dict of counts
    assert first.get("validerad", 0) == 0  # the coordinator made the validated copy
    assert first["kopia"] == 1 and second["kopia"] == 1 and second["minne"] == first.get("minne", 0) + 1

    # a reused kernel never serves a changed study from memory
    data = tmp_path / "data" / "s"
    task = ReportTask(
        name="a",
        notebook=str(tmp_path / "notebooks" / "las_b.ipynb"),
        cwd=str(tmp_path),
        parameters={"data_dir": str(data)},
        preimports=("pandas", "insats.data.load"),
    )
    one = run_report(task)
    medel = data / "medel.csv"
    lines = medel.read_text(encoding="utf-8").splitlines()
    medel.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    two = run_report(task)
    assert two.kernel_reused
    texts = [
        "".join(o.get("text", "") for c in nbformat.reads(x.notebook, as_version=4).cells for o in c.get("outputs", []))
        for x in (one, two)
    ]
    assert f"medel {len(lines) - 1} " in texts[0] and f"medel {len(lines) - 2} " in texts[1]


def _publication_notebook(path: Path) -> Path:
    """A report that uses the study's publication as the real reports do, and prints how many
    publications the run's sharing folder held before and after it asked for one."""
    params = nbformat.v4.new_code_cell("data_dir = None\nmin_cell = 5")
    params.metadata["tags"] = ["parameters"]
    body = nbformat.v4.new_code_cell(
        "import os, pathlib\n"
        "from insats.data.load import load_cached\n"
        "from insats.reports.publication import study_publication\n"
        'delat = pathlib.Path(os.environ["INSATS_SHARED_DIR"])\n'
        'fore = len(list(delat.glob("publicering-*.pickle")))\n'
        "pub = study_publication(load_cached(data_dir), min_cell=min_cell)\n"
        'print("delat", fore, len(list(delat.glob("publicering-*.pickle"))), "perioder", len(pub.periods))\n'
        'print("mapp", delat, oct(delat.stat().st_mode & 0o777))\n'
    )
    nb = nbformat.v4.new_notebook(cells=[params, body])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_the_publication_is_computed_once_per_run_and_its_reads_are_kept(tmp_path):
    """Two reports that use the publication (as every profile does): the first computes it into the
    pool's sharing folder, the second reads it back, and both record the tables behind it, so a
    change to one of them reruns both. The folder is private and gone when the run ends."""
    # a study large enough that its publication is quick (the disclosure model of a tiny study is not)
    study = generate("sundbyberg", tmp_path / "studie", seed=11, persons=700)
    params = _project(tmp_path / "projekt", study)
    tmp_path = tmp_path / "projekt"
    for name in ("pub_a", "pub_b"):
        _publication_notebook(tmp_path / "notebooks" / f"{name}.ipynb")
    _edit(params, "notebooks: [las_a, las_b]", "notebooks: [pub_a, pub_b]")
    _edit(params, "omraden: [rinkeby_kista, bromma]", "omraden: [duvbo]")
    result = run_batch(load_params(params), workers=1, only=["pub_a", "pub_b"])
    got = statuses(result)
    assert (got["pub_a"], got["pub_b"]) == ("ok", "ok"), got
    first, second = (
        re.search(r"delat (\d) (\d) perioder (\d+)", _texts(result.out_dir, n)) for n in ("pub_a", "pub_b")
    )
    assert first is not None and second is not None
    assert first.groups()[:2] == ("0", "1"), "the first report computes and stores the publication"
    assert second.groups()[:2] == ("1", "1"), "the second report reads it: nothing new is stored"
    assert first.group(3) == second.group(3) and int(first.group(3)) >= 2
    folder = str((tmp_path / "data" / "s").resolve())
    for name in ("pub_a", "pub_b"):
        read = set(result.record(name)["lasta"][folder]["tabeller"])
        assert {"personer", "bistand", "deltaganden", "insatser"} <= read, (name, read)
    folders = {re.search(r"mapp (\S+) (0o\d+)", _texts(result.out_dir, n)).groups() for n in ("pub_a", "pub_b")}
    ((shared, mode),) = folders  # one folder for the run
    assert mode == "0o700" and Path(shared).name.startswith("insats-delat-")
    assert not Path(shared).exists(), "the sharing folder outlives the run"


def test_area_codes_are_made_safe_and_one_district_never_stops_the_batch(tmp_path):
    long_code = (
        "K" * 60
    )  # the longest code validation accepts (a longer one is refused: tests/data/test_hostile_input.py)
    codes = [long_code, "a/../../b", "..", "c\x07d", "01"]
    rows = "".join(f'"{c}",Område {i},0180,Stockholm,2013,{1000 + i}\n' for i, c in enumerate(codes))
    params = make_project(tmp_path)
    (tmp_path / "data" / "s" / "omraden.csv").write_text(
        "omrade_kod,omrade,kommun_kod,kommun,ar,folkmangd\n" + rows, encoding="utf-8"
    )
    cfg = load_params(params)
    # a district whose files cannot be written (a folder in the way) fails alone
    blocked = cfg.out_dir / "profil_01.html"
    blocked.mkdir(parents=True)
    result = run_batch(cfg, workers=2)
    by_code = {r["omrade"]: r for r in result.records if r["omrade"] is not None}
    assert set(by_code) == set(codes)
    for code, rec in by_code.items():
        name = rec["namn"]
        assert len(name) <= 80 and re.fullmatch(r"[a-z0-9_]+", name), name
        if code != "01":
            assert rec["status"] == "ok", rec["fel"]
            assert (cfg.out_dir / f"{name}.html").is_file()
    assert len({r["namn"] for r in result.records}) == len(result.records)
    assert by_code["01"]["status"] == "fel" and by_code["01"]["fel"]["typ"] == "Skrivfel"
    assert result.record("studie")["status"] == "ok"
    assert {p.parent for p in tmp_path.rglob("*.html")} == {cfg.out_dir}  # nothing outside the report folder
    index = (cfg.out_dir / "korning.html").read_text(encoding="utf-8")  # the run log
    assert "Skrivfel" in index and "\x07" not in index and "c\\x07d" in index
    line = batch.progress_line(1, 1, by_code["c\x07d"])
    assert "\x07" not in line and "c\\x07d" in line
    assert len(batch.progress_line(1, 1, by_code[long_code])) < 120


def test_many_studies_in_one_run(tmp_path):
    for name in ("alfa", "beta"):
        (tmp_path / "data" / "kommuner" / name).mkdir(parents=True)
        (tmp_path / "data" / "kommuner" / name / "omraden.csv").write_text(OMRADEN, encoding="utf-8")
    broken = tmp_path / "data" / "kommuner" / "gamma"
    broken.mkdir()
    (broken / "omraden.csv").write_text(OMRADEN.splitlines()[0] + "\n", encoding="utf-8")  # no areas
    (tmp_path / "params").mkdir()
    (tmp_path / "notebooks").mkdir()
    for nb in ("studie", "profil"):
        shutil.copy(NOTEBOOKS / f"{nb}.ipynb", tmp_path / "notebooks" / f"{nb}.ipynb")
    params = tmp_path / "params" / "m.yaml"
    params.write_text(
        'fran: "2012-01"\nkorning:\n  namn: m\n  studier: ["data/kommuner/*"]\n'
        "  notebooks: [studie]\n  profil: profil\n  omraden: alla\n  pdf: false\n  publicering: false\n",
        encoding="utf-8",
    )
    cfg = load_params(params)
    assert [s.name for s in cfg.studies] == ["alfa", "beta", "gamma"]
    result = run_batch(cfg, workers=2)
    st = statuses(result)
    assert st["alfa/studie"] == st["beta/studie"] == st["gamma/studie"] == "ok"
    assert [n for n, s in st.items() if n.startswith("alfa/profil_") and s == "ok"] == [
        "alfa/profil_01",
        "alfa/profil_02",
        "alfa/profil_03",
    ]
    assert st["gamma/profil"] == "fel" and "inga områden" in result.record("gamma/profil")["fel"]["meddelande"]
    assert "Spånga-Tensta 38000" in (result.out_dir / "beta" / "profil_02.html").read_text(encoding="utf-8")
    run = json.loads(result.korning_json.read_text(encoding="utf-8"))
    assert set(run["studier"]) == {"alfa", "beta", "gamma"}
    index = (result.out_dir / "korning.html").read_text(encoding="utf-8")  # the run log
    assert "href='alfa/profil_02.html'" in index and "Studie gamma" in index
    # only one study changed: only its reports run
    beta = tmp_path / "data" / "kommuner" / "beta" / "omraden.csv"
    beta.write_text(OMRADEN.replace("38000", "38100"), encoding="utf-8")
    again = run_batch(load_params(params), workers=2, only=["alfa", "beta"])
    ran = {n for n, s in statuses(again).items() if s == "ok"}
    assert ran == {"beta/studie", "beta/profil_01", "beta/profil_02", "beta/profil_03"}
    assert "Spånga-Tensta 38100" in (result.out_dir / "beta" / "profil_02.html").read_text(encoding="utf-8")


def _children(pid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_kill_9_of_the_coordinator_leaves_no_kernel_running(tmp_path):
    pid_file = tmp_path / "pid.txt"
    params = make_project(tmp_path, extra=f'sov_omrade: "01"\nsov_sekunder: 300\npid_fil: {str(pid_file)!r}')
    # the coordinator as `insats run` runs it, with the light kernels of these tests
    script = (
        "import sys; from insats.runner import batch; from insats.cli import main; "
        "batch.DEFAULT_PREIMPORTS = ('pandas', 'insats.data.load'); sys.exit(main(sys.argv[1:]))"
    )
    coordinator = subprocess.Popen(
        [sys.executable, "-c", script, "run", str(params), "--workers", "2", "--quiet"],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    kernels: set[int] = set()
    try:
        deadline = time.monotonic() + 90
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pid_file.exists(), "the sleeping report never started"
        time.sleep(0.5)
        kernels = _children(coordinator.pid)
        sleeper = int(pid_file.read_text())
        assert sleeper in kernels and len(kernels) >= 1
        grandchildren = {g for k in kernels for g in _children(k)}
        os.kill(coordinator.pid, signal.SIGKILL)
        coordinator.wait(10)
        deadline = time.monotonic() + 15
        while any(_alive(p) for p in kernels | grandchildren) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in kernels | grandchildren if _alive(p)]
    finally:
        for pid in kernels:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if coordinator.poll() is None:
            coordinator.kill()


def test_the_page_made_after_the_kernel_moved_on_is_the_same(tmp_path):
    from insats.reports.export import notebook_html
    from insats.runner.execute import export_outcome

    (tmp_path / "omraden.csv").write_text(OMRADEN, encoding="utf-8")
    task = ReportTask(
        name="p02",
        notebook=str(NOTEBOOKS / "profil.ipynb"),
        cwd=str(tmp_path),
        parameters={"data_dir": str(tmp_path), "omrade": "02"},
        preimports=("pandas",),
    )
    later = run_report(task, export=False)  # as the local runner runs it: the page is made afterwards
    assert later.status == "ok" and later.html is None and later.notebook
    assert later.node is not None  # the executed notebook, so the export need not parse the text again
    export_outcome(later)
    assert later.node is None  # not kept with the outcome after the export
    assert later.html == notebook_html(nbformat.reads(later.notebook, as_version=4), "p02")
    assert "Spånga-Tensta 38000" in later.html and later.external == [] and "export" in later.phases


def test_a_change_to_the_code_of_insats_reruns_the_report():
    # a checkout that moved to new code keeps its version number: the source itself is compared
    from insats.data.validated import package_fingerprint
    from insats.runner.plan import decide

    now = {"notebook_sha256": "n", "parametrar_sha256": "p", "insats_version": "0.1.0", "insats_kod": "ny"}
    last_ok = {"indata": {**now, "insats_kod": "gammal"}, "lasta": {}, "slut": "2026-12-02T10:00"}
    record = {"indata": now, "parametrar": {}}
    skip, why = decide(record, {"senast_ok": last_ok}, force=False, html_ok=True, hashes=FolderHashes())
    assert skip is None and why == "koden i insats har ändrats"
    unchanged = {"senast_ok": {**last_ok, "indata": dict(now)}}
    skip, why = decide(record, unchanged, force=False, html_ok=True, hashes=FolderHashes())
    assert skip is not None and skip.startswith("oförändrad") and why == ""
    # the fingerprint is of the source: the same files give the same one, and it is a SHA-256
    assert re.fullmatch(r"[0-9a-f]{64}", package_fingerprint())
