"""A study's publication computed once and shared by the kernels of one server or batch run.

Working out a study's publication (every measure of every publication period, the report tables
and the disclosure model over all of them) takes 10–20 s of processor time; each dashboard kernel
needs it before its first chart. ``insats serve`` starts many kernels for the same study (the
pre-started pool, and its refills during a meeting), so without sharing every kernel would do the
same work again, at the expense of the viewers' kernels. ``insats serve`` therefore creates a
private folder for the server's lifetime and names it in ``INSATS_SHARED_DIR``; the first kernel
that needs a publication computes it and stores it there, and every other kernel (waiting for it
if it is being computed) reads it back in a few milliseconds. The batch runner's kernel pool
(``insats.runner.kernels``) does the same for the reports of one ``insats run``: every profile of
a study uses the same publication, so it is computed once per worker process, not once per report;
after the reports the run's coordinator reads the stored publications back for the run's
publication record (``sharing_in_process``) instead of computing them again.
The tables that the computation read are stored with it and recorded again in the reader's read
log (``insats.data.study.READS``), so a report that got its publication from the folder still
reruns when one of those tables changes.

A kernel that finds another computing the publication it needs does not only wait: it runs the
publication's *helpers* first (``shared_publication(helpers=…)``), which work out parts of it
through ``shared_part`` — values stored under the same key and a part's name, computed by
whichever kernel asks first while the others wait and read. ``insats.reports.publication`` makes
two parts of this kind: the longest period's raw measures and the registrations of the
utvärdering's last sections (recorded, ``insats.analysis.publication.record``, and replayed in the
computing kernel in their place, so the disclosure model is built in the same order with the same
cells). In a batch run of two workers the second kernel works the sections out while the first
computes the rest, and the publication is ready about a second sooner; a helper that fails changes
nothing (the computing kernel then works that part out itself).

Trust: the stored form is a Python pickle, which runs code when read, so it is read only from a
folder that this user owns and no one else may write to or read (mode 0700, as
``tempfile.mkdtemp`` makes it). The pickle is made by this code from the study, never taken from a
data folder, and a folder that fails the check is ignored: the publication is then computed in
the kernel, as without sharing. The key covers the study's content (SHA-256 of its source files),
the publication's parameters, and the source of the whole ``insats`` package, so a changed file or
rule never gets an old publication.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import os
import pickle
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from insats.atomic import atomic_write

if TYPE_CHECKING:  # light at run time: ``insats serve`` imports this module for ``ENV_SHARED``
    from insats.analysis.publication import Publication
    from insats.data.study import Study

__all__ = [
    "ENV_SHARED",
    "make_shared_dir",
    "remove_stale_shared_dirs",
    "shared_dir",
    "shared_part",
    "shared_publication",
    "sharing_in_process",
]

T = TypeVar("T")

ENV_SHARED = "INSATS_SHARED_DIR"
"""The folder where the kernels of one ``insats serve`` share publications (unset: no sharing)."""

try:  # POSIX: a lock that ends with the process holding it (a killed kernel never blocks the others)
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock; at worst two kernels compute the same
    fcntl = None  # type: ignore[assignment]


SHARED_PREFIX = "insats-delat-"


def make_shared_dir() -> str:
    """A new sharing folder, private to this user (``mkdtemp``: mode 0700) and named by the process
    that made it; the caller removes it. Folders left by a process that no longer runs (killed
    with ``kill -9``) are removed first."""
    remove_stale_shared_dirs()
    return tempfile.mkdtemp(prefix=f"{SHARED_PREFIX}{os.getpid()}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but is another user's
        return True
    return True


def remove_stale_shared_dirs(root: Path | str | None = None) -> list[Path]:
    """Remove this user's sharing folders in ``root`` (the temp folder) whose process has ended; the
    folders removed. A folder of a running process, another user's, or a link is left alone."""
    removed = []
    for path in Path(root or tempfile.gettempdir()).glob(f"{SHARED_PREFIX}*-*"):
        pid = path.name[len(SHARED_PREFIX) :].split("-", 1)[0]
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not pid.isdigit() or not stat.S_ISDIR(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
            continue
        if not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


_IN_PROCESS: list[str] = []
"""Folders named by ``sharing_in_process``, the innermost last."""


@contextlib.contextmanager
def sharing_in_process(folder: str | Path | None) -> Iterator[None]:
    """Within the block, this process shares publications through ``folder`` as a kernel does
    through ``INSATS_SHARED_DIR`` (which still comes first): the ``insats run`` coordinator reads
    the publications its kernels stored, for the run's publication record, instead of computing
    each again. ``None``: no change. The folder must pass the same check (``shared_dir``)."""
    if folder is None:
        yield
        return
    _IN_PROCESS.append(str(folder))
    try:
        yield
    finally:
        _IN_PROCESS.pop()


def shared_dir(environ: dict[str, str] | None = None) -> Path | None:
    """The sharing folder named in ``INSATS_SHARED_DIR`` (or, without one, by
    ``sharing_in_process``) when it is safe to read from: a folder (not a link) owned by this user
    with no access for group or others; else None."""
    env = os.environ if environ is None else environ
    name = env.get(ENV_SHARED, "").strip()
    if not name and environ is None and _IN_PROCESS:
        name = _IN_PROCESS[-1]
    if not name:
        return None
    try:
        st = os.lstat(name)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None
    if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o077):
        return None
    return Path(name)


def _key(study: Study, parameters: Any) -> str | None:
    content = getattr(study, "content_key", None)
    if not content:
        return None
    # imported here: ``insats serve`` imports this module for ENV_SHARED and must not load pandas
    from insats.data.validated import package_fingerprint

    text = f"{content}\n{parameters!r}\n{package_fingerprint()}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@contextlib.contextmanager
def _locked(path: Path, *, while_busy: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the lock file ``path``. When another process holds it, ``while_busy()`` runs first (if
    given), then this process waits for the lock."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(path, "a+b") as fh:
        if while_busy is not None:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                while_busy()
                fcntl.flock(fh, fcntl.LOCK_EX)
        else:
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """No garbage collection within the block. Reading a publication back makes a hundred thousand
    objects at once, which set off collections of the whole heap while they are made (a report
    kernel's heap holds everything its last reports left): 0.05 s to read without, up to 0.4 s with."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load(path: Path) -> dict | None:
    """A stored value and the reads that made it, or None (none stored, or a damaged file)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        with _collection_paused():
            stored = pickle.loads(data)
    except Exception:  # noqa: BLE001  (a damaged file: compute instead)
        return None
    if not isinstance(stored, dict) or not isinstance(stored.get("reads"), frozenset) or "value" not in stored:
        return None
    return stored


def _read(path: Path, study: Study) -> Publication | None:
    stored = _load(path)
    if stored is None:
        return None
    pub: Any = stored["value"]
    if type(pub).__name__ != "Publication" or not hasattr(pub, "results"):
        return None
    _read_log().replay(stored["reads"])
    pub.study = study
    return pub


def _read_part(path: Path) -> tuple[bool, Any]:
    stored = _load(path)
    if stored is None:
        return False, None
    _read_log().replay(stored["reads"])
    return True, stored["value"]


def _store(path: Path, value: Any, reads: set[tuple]) -> None:
    with contextlib.suppress(OSError):  # a full disk: this kernel still has its value
        atomic_write(path, pickle.dumps({"value": value, "reads": frozenset(reads)}, protocol=pickle.HIGHEST_PROTOCOL))


def _read_log() -> Any:
    # imported on use: ``insats serve`` imports this module and must not load pandas with it
    from insats.data.study import READS

    return READS


def shared_publication(
    study: Study,
    parameters: Any,
    compute: Callable[[], Publication],
    *,
    helpers: Sequence[Callable[[], None]] = (),
) -> Publication:
    """``compute()``'s publication of ``study`` for ``parameters`` (any value with an exact
    ``repr``), through the sharing folder when there is one and the study has a content key:
    read when another kernel has stored it, else computed (one kernel at a time per key, the
    others wait and then read) and stored.

    ``helpers``: work a kernel that finds another computing this publication does first, instead
    of only waiting: each computes and stores a part of the publication through ``shared_part``,
    so that the computing kernel reads that part instead of computing it (a batch run's second
    kernel, a dashboard server's other kernels). A helper that fails is ignored: the computing
    kernel then computes that part itself."""
    folder = shared_dir()
    key = _key(study, parameters) if folder is not None else None
    if folder is None or key is None:  # no sharing folder, or a study without a content key
        return compute()
    path = folder / f"publicering-{key}.pickle"
    pub = _read(path, study)
    if pub is not None:
        return pub
    with _locked(folder / f"publicering-{key}.lock", while_busy=lambda: _help(helpers)):
        pub = _read(path, study)  # computed while this kernel waited for the lock
        if pub is not None:
            return pub
        with _read_log().capture() as reads:
            pub = compute()
        _store(path, dataclasses.replace(pub, study=cast("Study", None)), reads)  # the study is the kernel's own
        return pub


def _help(helpers: Sequence[Callable[[], None]]) -> None:
    for helper in helpers:
        with contextlib.suppress(Exception):  # the computing kernel then works that part out itself
            helper()


def shared_part(study: Study, parameters: Any, name: str, compute: Callable[[], T]) -> T:
    """``compute()`` (a picklable value that depends only on ``study``'s content, ``parameters``
    and ``name``), computed once for the kernels that share a folder: read when stored, else
    computed while this kernel holds the part's lock (another kernel asking meanwhile waits, then
    reads it) and stored. Without a sharing folder simply ``compute()``. The tables read to compute
    it are recorded in the reader's read log too, as for a publication."""
    folder = shared_dir()
    key = _key(study, (parameters, name)) if folder is not None else None
    if folder is None or key is None:
        return compute()
    path = folder / f"del-{key}.pickle"
    found, value = _read_part(path)
    if found:
        return cast("T", value)
    with _locked(folder / f"del-{key}.lock"):
        found, value = _read_part(path)
        if found:
            return cast("T", value)
        with _read_log().capture() as reads:
            value = compute()
        _store(path, value, reads)
        return value
