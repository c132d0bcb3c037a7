"""insats.reports.sharing parts and helpers: a kernel that waits for a publication works out part of
it for the kernel computing it — and the publication is the same as one computed alone."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from insats.analysis.publication import publish, record
from insats.data.cache import load_cached
from insats.data.load import load_study
from insats.data.study import READS
from insats.intake import synth
from insats.reports import publication as P
from insats.reports import sharing
from insats.reports import utvardering as U
from insats.reports.utvardering.delperioder import link_whole_study

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory) -> Path:
    # sundbyberg: a reform date, so the attendance section runs too (live, before the recorded part)
    return synth.generate("sundbyberg", tmp_path_factory.mktemp("studie") / "s", seed=12, persons=700)


class _Study:
    content_key = "abc"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _all_sections_live(evaluation):
    """The utvärdering's registration as it was before any part was recorded: all five sections run
    with the publication collecting, one after the other (the independent route)."""

    def hook(pub):
        study = pub.study
        start, end = (p[:7] for p in pub.span.split(":"))
        m = pub.disclosure.min_cell
        ctx = U.make_context(study, start, end, min_cell=m, omfattning=evaluation["omfattning"])
        raw = pub.raws[pub.span]
        U.section_offer(ctx, raw, min_cell=m)
        if evaluation.get("reform_datum"):
            U.section_attendance(ctx, raw, evaluation["reform_datum"], min_cell=m)
        U.section_lov(
            ctx,
            raw,
            min_cell=m,
            lov_min_deltagare=evaluation["lov_min_deltagare"],
            reform_datum=evaluation.get("reform_datum"),
        )
        U.section_interventions(ctx, raw, min_cell=m)
        U.section_path(ctx, raw, min_cell=m)
        link_whole_study(pub)

    return hook


def test_replayed_registrations_give_the_record_of_live_ones(study_dir, monkeypatch):
    monkeypatch.delenv(sharing.ENV_SHARED, raising=False)
    study = load_study(study_dir, cache=False)
    evaluation = P.evaluation_parameters(study, None, all_groups=False)
    assert evaluation["reform_datum"], "the fixture should have a reform date (all five sections)"
    live = publish(study, min_cell=5, hooks=[P.register_rest_of_study, _all_sections_live(evaluation)])
    P._CACHE.clear()
    replayed = P.study_publication(load_study(study_dir, cache=False), min_cell=5)
    assert P.manifest_text(replayed) == P.manifest_text(live)
    assert replayed.disclosure.suppressed.tolist() == live.disclosure.suppressed.tolist()
    assert len(replayed.disclosure.cells) == len(live.disclosure.cells) > 1000


def test_a_recorded_part_may_not_reach_the_model_directly(study_dir):
    study = load_cached(study_dir)
    with pytest.raises(RuntimeError, match=r"Publication\.register"):
        record(study, {"2015-01:2016-12": None}, lambda pub: pub.disclosure.cell(None, 1.0))


def test_a_part_is_computed_once_and_read_with_its_reads(private):
    calls = []

    def compute():
        calls.append(1)
        READS.record(str(private), "personer", "personer.csv", "x")
        return {"value": 41}

    READS.clear()
    assert sharing.shared_part(_Study(), ("k",), "del", compute) == {"value": 41}
    READS.clear()
    assert sharing.shared_part(_Study(), ("k",), "del", compute) == {"value": 41}
    assert calls == [1]
    assert [e["tabell"] for e in READS.entries()] == ["personer"], "the reads of a stored part were not replayed"
    assert sharing.shared_part(_Study(), ("k",), "en annan del", compute) == {"value": 41}
    assert sharing.shared_part(_Study(), ("annat",), "del", compute) == {"value": 41}
    assert calls == [1, 1, 1]


def test_without_a_folder_a_part_is_computed_each_time(monkeypatch):
    monkeypatch.delenv(sharing.ENV_SHARED, raising=False)
    calls = []
    for _ in range(2):
        sharing.shared_part(_Study(), ("k",), "del", lambda: calls.append(1))
    assert calls == [1, 1]


def test_a_damaged_part_is_computed_again(private):
    sharing.shared_part(_Study(), ("k",), "del", lambda: 1)
    (stored,) = private.glob("del-*.pickle")
    stored.write_bytes(b"not a pickle")
    assert sharing.shared_part(_Study(), ("k",), "del", lambda: 2) == 2


@pytest.mark.skipif(sys.platform == "win32", reason="the lock is POSIX flock")
def test_helpers_run_only_while_another_kernel_computes_and_their_failures_are_ignored(private):
    key = sharing._key(_Study(), ("k",))
    lock = private / f"publicering-{key}.lock"
    held, release = threading.Event(), threading.Event()

    def other_kernel():
        with sharing._locked(lock):
            held.set()
            release.wait(30)

    def failing():
        raise ValueError("a helper's error")

    helped = []

    def helper():
        helped.append(1)
        release.set()  # the other kernel finishes (without storing anything: this one computes)

    computed = []

    def compute():
        computed.append(1)
        return P.Publication(study=None, params=None, results={"p": 1}, disclosure=None)

    thread = threading.Thread(target=other_kernel)
    thread.start()
    assert held.wait(30)
    pub = sharing.shared_publication(_Study(), ("k",), compute, helpers=[failing, helper])
    thread.join(30)
    assert helped == [1] and computed == [1] and pub.results == {"p": 1}
    # the publication is stored now: a later kernel reads it, helping no one
    again = sharing.shared_publication(_Study(), ("k",), compute, helpers=[helper])
    assert helped == [1] and computed == [1] and again.results == {"p": 1}


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="the lock is POSIX flock")
def test_a_waiting_kernel_computes_the_recorded_sections_and_both_get_the_same_publication(
    study_dir, tmp_path, monkeypatch
):
    """Two kernel processes of one run: (a) starts the publication; (b) asks once (a) holds it, and
    works out the recorded sections meanwhile; (a) waits after its own sections until (b) has done
    so (to make the order certain), then reads them. The record equals one computed alone."""
    folder = tmp_path / "delat"
    folder.mkdir(mode=0o700)
    folder.chmod(0o700)
    log, started = tmp_path / "logg.txt", tmp_path / "a-har-borjat"
    script = textwrap.dedent(
        f"""
        import hashlib, os, sys, time
        from pathlib import Path
        from insats.data.cache import load_cached
        from insats.reports import publication as P
        from insats.reports import utvardering as U

        role, log, started = sys.argv[1], Path({str(log)!r}), Path({str(started)!r})

        def note(text):
            with open(log, "a") as fh:
                fh.write(f"{{text}}\\n")

        def wrap(module, name, before=None, after=None):
            original = getattr(module, name)

            def wrapped(*args, **kwargs):
                before and before()
                out = original(*args, **kwargs)
                after and after()
                return out

            setattr(module, name, wrapped)

        def wait_for_b():
            deadline = time.monotonic() + 120
            while "avsnitt b" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.05)

        wrap(P, "publish", before=lambda: note(f"publicering {{role}}"))
        wrap(P, "evaluation_tail", before=lambda: note(f"avsnitt {{role}}"))
        wrap(P, "register_rest_of_study", before=started.touch)
        if role == "a":
            wrap(U, "section_lov", after=wait_for_b)
        study = load_cached({str(study_dir)!r})  # as a report loads it (with the content key sharing needs)
        if role == "b":
            deadline = time.monotonic() + 120
            while not started.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
        pub = P.study_publication(study, min_cell=5)
        print(hashlib.sha256(P.manifest_text(pub).encode()).hexdigest())
        """
    )
    log.write_text("")
    env = {**os.environ, sharing.ENV_SHARED: str(folder)}
    procs = [
        subprocess.Popen([sys.executable, "-c", script, role], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for role in ("a", "b")
    ]
    outs = [p.communicate(timeout=300)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    lines = log.read_text().splitlines()
    assert lines.count("publicering a") == 1 and "publicering b" not in lines, lines
    assert [line for line in lines if line.startswith("avsnitt")] == ["avsnitt b"], lines

    monkeypatch.delenv(sharing.ENV_SHARED, raising=False)
    P._CACHE.clear()
    alone = P.manifest_text(P.study_publication(load_study(study_dir, cache=False), min_cell=5))
    assert outs == [_sha(alone), _sha(alone)]
