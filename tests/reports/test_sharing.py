"""insats.reports.sharing: a publication computed once per server and read back by other kernels
— the same figures, never from a folder another user could have written, one computation at a time."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from insats.analysis.publication import Publication
from insats.data.cache import load_cached
from insats.data.study import READS
from insats.intake import synth
from insats.reports import publication as P
from insats.reports import sharing
from insats.reports import utvardering as U
from insats.reports.render import Table, table_html

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory) -> Path:
    return synth.generate("sundbyberg", tmp_path_factory.mktemp("studie") / "s", seed=11, persons=700)


def _counting(monkeypatch, *, real: bool = False) -> list[int]:
    """Count the computations of a publication: the real one, or (``real`` False, for tests of when
    a publication is computed rather than what it holds) a small stand-in of the same type that
    records the parameters it was computed for."""
    calls: list[int] = []
    publish = P.publish

    def counted(study, **kwargs):
        calls.append(1)
        if real:
            return publish(study, **kwargs)
        return Publication(study=study, params=None, results={"min_cell": kwargs["min_cell"]}, disclosure=None)

    monkeypatch.setattr(P, "publish", counted)
    return calls


def _figures(pub) -> dict[str, pd.DataFrame]:
    return {period: pub.result(*period.split(":")).table for period in pub.periods}


def test_a_second_kernel_reads_the_stored_publication_with_the_same_figures(study_dir, private, monkeypatch):
    calls = _counting(monkeypatch, real=True)

    def tables_read() -> set[str]:
        return {e["tabell"] for e in READS.entries() if e["tabell"]}

    study = load_cached(study_dir)
    READS.clear()
    first = P.study_publication(study, min_cell=5)
    assert calls == [1]
    assert len(list(private.glob("publicering-*.pickle"))) == 1
    read = tables_read()
    assert {"personer", "bistand", "deltaganden", "insatser"} <= read

    P._CACHE.clear()  # as a new kernel (or the next report of a batch kernel): nothing in memory
    study = load_cached(study_dir)
    READS.clear()
    second = P.study_publication(study, min_cell=5)
    assert calls == [1], "the second kernel computed the publication again"
    # a report that got the stored publication still reruns when a table behind it changes
    assert tables_read() == read
    assert second.study is study
    assert second.periods == first.periods
    for period, table in _figures(first).items():
        pd.testing.assert_frame_equal(_figures(second)[period], table)
    assert second.log == first.log

    # report tables rendered with the stored publication hide exactly what the computed one hides
    def tables(pub) -> list[str]:
        start, end = pub.span.split(":")
        ctx = U.make_context(pub.study, start, end, min_cell=5)
        with pub.active(start, end):
            sections = [U.section_offer(ctx, pub.result().table, min_cell=5)]
            sections.append(U.section_interventions(ctx, pub.result().table, min_cell=5))
        return [table_html(b.frame) for sec in sections for b in sec.blocks if isinstance(b, Table)]

    shown = tables(first)
    assert len(shown) >= 4
    assert tables(second) == shown


def test_other_parameters_or_other_data_are_computed_not_read(study_dir, private, monkeypatch, tmp_path):
    calls = _counting(monkeypatch)
    P.study_publication(load_cached(study_dir), min_cell=5)
    P._CACHE.clear()
    assert P.study_publication(load_cached(study_dir), min_cell=3).results == {"min_cell": 3}
    assert calls == [1, 1]
    P._CACHE.clear()
    assert P.study_publication(load_cached(study_dir), min_cell=5).results == {"min_cell": 5}
    assert calls == [1, 1], "each parameter set is stored under its own key"

    changed = synth.generate("sundbyberg", tmp_path / "andra", seed=12, persons=700)
    P._CACHE.clear()
    P.study_publication(load_cached(changed), min_cell=5)
    assert calls == [1, 1, 1]
    assert len(list(private.glob("publicering-*.pickle"))) == 3


def test_without_a_sharing_folder_every_kernel_computes(study_dir, monkeypatch):
    monkeypatch.delenv(sharing.ENV_SHARED, raising=False)
    calls = _counting(monkeypatch)
    for _ in range(2):
        P._CACHE.clear()
        P.study_publication(load_cached(study_dir), min_cell=5)
    assert calls == [1, 1]
    P._CACHE.clear()


class _Planted:
    """What an attacker would leave in the sharing folder: a pickle that runs a command when read."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX file modes")
@pytest.mark.parametrize("mode", [0o777, 0o750, 0o705])
def test_a_folder_others_can_write_or_read_is_never_read(study_dir, private, monkeypatch, mode, tmp_path):
    """An attacker who could write to the folder replaces the stored publication with a pickle that
    runs a command when read: once the folder is open to others it is not read at all."""
    calls = _counting(monkeypatch)
    P.study_publication(load_cached(study_dir), min_cell=5)
    (stored,) = private.glob("publicering-*.pickle")
    marker = tmp_path / "pwned"
    stored.write_bytes(pickle.dumps(_Planted(marker)))
    private.chmod(mode)
    assert sharing.shared_dir() is None
    P._CACHE.clear()
    pub = P.study_publication(load_cached(study_dir), min_cell=5)
    assert calls == [1, 1]
    assert pub.results == {"min_cell": 5}
    assert not marker.exists()
    private.chmod(0o700)


def test_a_link_or_a_missing_folder_is_not_a_sharing_folder(tmp_path):
    real = tmp_path / "riktig"
    real.mkdir(mode=0o700)
    real.chmod(0o700)
    link = tmp_path / "lank"
    link.symlink_to(real)
    assert sharing.shared_dir({sharing.ENV_SHARED: str(real)}) == real
    assert sharing.shared_dir({sharing.ENV_SHARED: str(link)}) is None
    assert sharing.shared_dir({sharing.ENV_SHARED: str(tmp_path / "saknas")}) is None
    assert sharing.shared_dir({sharing.ENV_SHARED: ""}) is None
    assert sharing.shared_dir({}) is None


def test_a_damaged_stored_file_is_computed_again(study_dir, private, monkeypatch):
    calls = _counting(monkeypatch)
    P.study_publication(load_cached(study_dir), min_cell=5)
    (stored,) = private.glob("publicering-*.pickle")
    stored.write_bytes(b"not a pickle")
    P._CACHE.clear()
    pub = P.study_publication(load_cached(study_dir), min_cell=5)
    assert calls == [1, 1]
    assert pub.results == {"min_cell": 5}


@pytest.mark.skipif(sys.platform == "win32", reason="the lock is POSIX flock")
def test_kernels_starting_together_compute_once(tmp_path):
    """Three processes ask at the same moment; the computation (slow on purpose) runs once."""
    folder = tmp_path / "delat"
    folder.mkdir(mode=0o700)
    folder.chmod(0o700)
    log = tmp_path / "berakningar.txt"
    script = textwrap.dedent(
        f"""
        import time
        from dataclasses import dataclass, field
        from insats.reports import sharing

        @dataclass
        class Publication:
            study: object
            results: dict = field(default_factory=dict)

        class S:
            content_key = "abc"

        def compute():
            with open({str(log)!r}, "a") as fh:
                fh.write("x\\n")
            time.sleep(1.5)
            return Publication(None, {{"p": 1}})

        pub = sharing.shared_publication(S(), ("k",), compute)
        assert pub.results == {{"p": 1}}, pub
        """
    )
    env = {**os.environ, sharing.ENV_SHARED: str(folder)}
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env, cwd=ROOT) for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert log.read_text().splitlines() == ["x"]


@pytest.mark.parametrize("collecting", [True, False])
def test_reading_a_stored_publication_pauses_garbage_collection_only_while_unpickling(
    study_dir, private, monkeypatch, collecting
):
    import gc

    calls = _counting(monkeypatch, real=True)
    first = P.study_publication(load_cached(study_dir), min_cell=5)
    P._CACHE.clear()
    loads, during = pickle.loads, []

    def watched(data, *args, **kwargs):
        during.append(gc.isenabled())
        return loads(data, *args, **kwargs)

    monkeypatch.setattr(sharing.pickle, "loads", watched)
    was = gc.isenabled()
    (gc.enable if collecting else gc.disable)()
    try:
        second = P.study_publication(load_cached(study_dir), min_cell=5)
        after = gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
    assert calls == [1], "the publication was computed again instead of read"
    assert during == [False], "the stored publication was unpickled with garbage collection on"
    assert after is collecting, "garbage collection was left in another state than it was in"
    assert second.log == first.log
