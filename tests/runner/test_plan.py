"""Planning a batch run (insats.runner.plan): areas, report names, and why a report runs or is skipped."""

from __future__ import annotations

from insats.runner.config import load_params
from insats.runner.inputs import FolderHashes, inputs_read
from insats.runner.plan import decide, discover_areas, plan, report_names
from tests.runner.test_batch import make_project


def test_discover_areas_reads_the_omraden_table(tmp_path):
    cfg = load_params(make_project(tmp_path))
    assert discover_areas(cfg.data_dir) == {
        "01": "Rinkeby-Kista",
        "02": "Spånga-Tensta",
        "03": "Hässelby-Vällingby",
    }


def test_report_names_are_safe_and_codes_that_fold_alike_stay_apart(tmp_path):
    cfg = load_params(make_project(tmp_path))
    (study,) = cfg.studies
    names = [n for n, _, _ in report_names(cfg, study, {"a/b": "A", "a_b": "B", "../x": "C"})]
    assert names[0] == "studie"
    assert names[1] == "profil_a_b"
    assert names[2].startswith("profil_a_b_") and len(names[2]) == len("profil_a_b_") + 8
    assert names[3] == "profil_x"
    assert len(set(names)) == len(names)
    assert not any("/" in n or ".." in n for n in names)


def _plan(cfg, previous, hashes, force=False):
    planned, _ = plan(cfg, only=None, force=force, previous=previous, version="1", preimports=(), hashes=hashes)
    return {p.record["namn"]: p for p in planned}


def _as_done(planned, reads_by_name, hashes) -> dict:
    """``korning.json`` records as after a successful run in which each report read these tables."""
    out = {}
    for name, p in planned.items():
        record = dict(p.record, status="ok")
        data_dir = p.study.path.resolve()
        last = inputs_read(reads_by_name(data_dir, hashes.of(data_dir)), data_dir, hashes)
        record["senast_ok"] = {"indata": record["indata"], "parametrar": record["parametrar"], "lasta": last}
        out[name] = record
    return out


def test_decide_skips_unchanged_reports_and_says_why_others_run(tmp_path):
    params = make_project(tmp_path)
    cfg = load_params(params)
    out = cfg.out_dir
    out.mkdir(parents=True)
    first = _plan(cfg, {}, FolderHashes())
    assert {p.record["orsak"] for p in first.values()} == {"ny rapport: ingen tidigare lyckad körning"}
    for name in first:
        (out / f"{name}.html").write_text("x", encoding="utf-8")

    def reads(folder, files):
        return [{"mapp": str(folder), "tabell": "omraden", "fil": "omraden.csv", "sha256": files["omraden.csv"]}]

    previous = _as_done(first, reads, FolderHashes())
    again = _plan(cfg, previous, FolderHashes())
    assert all(
        p.skip_reason and p.skip_reason.startswith("oförändrad: läser tabellerna omraden") for p in again.values()
    )
    assert all(p.skip_reason is None for p in _plan(cfg, previous, FolderHashes(), force=True).values())

    # a new file in the folder, a changed table, a changed parameter: each is named
    data = cfg.data_dir
    (data / "medel.csv").write_text("omrade_kod,ar,kategori,belopp\n", encoding="utf-8")
    skip, why = decide(again["studie"].record, previous["studie"], force=False, html_ok=True, hashes=FolderHashes())
    assert skip is None and why == "filerna i studien har ändrats (ny fil medel.csv)"
    (data / "omraden.csv").write_text((data / "omraden.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    params.write_text(params.read_text(encoding="utf-8").replace("min_cell: 5", "min_cell: 7"), encoding="utf-8")
    changed = _plan(load_params(params), previous, FolderHashes())
    assert changed["studie"].record["orsak"] == (
        "parametrarna min_cell har ändrats; filerna i studien har ändrats (ny fil medel.csv); "
        "tabellen omraden har ändrats"
    )
    # a missing report file, or a failed last run, always reruns
    (out / "profil_01.html").unlink()
    assert _plan(cfg, previous, FolderHashes())["profil_01"].record["orsak"] == "rapportfilen saknas"
