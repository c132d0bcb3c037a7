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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from insats.atomic import atomic_write

if TYPE_CHECKING:  # light at run time: ``insats serve`` imports this module for ``ENV_SHARED``
    from insats.analysis.publication import Publication
    from insats.data.study import Study

__all__ = [
    "ENV_SHARED",
    "make_shared_dir",
    "remove_stale_shared_dirs",
    "shared_dir",
    "shared_publication",
    "sharing_in_process",
]

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
def _locked(path: Path) -> Iterator[None]:
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(path, "a+b") as fh:
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


def _read(path: Path, study: Study) -> Publication | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        with _collection_paused():
            stored = pickle.loads(data)
    except Exception:  # noqa: BLE001  (a damaged file: compute instead)
        return None
    if not isinstance(stored, dict) or not isinstance(stored.get("reads"), frozenset):
        return None
    pub: Any = stored.get("publication")
    if type(pub).__name__ != "Publication" or not hasattr(pub, "results"):
        return None
    _read_log().replay(stored["reads"])
    pub.study = study
    return pub


def _read_log() -> Any:
    # imported on use: ``insats serve`` imports this module and must not load pandas with it
    from insats.data.study import READS

    return READS


def shared_publication(study: Study, parameters: Any, compute: Callable[[], Publication]) -> Publication:
    """``compute()``'s publication of ``study`` for ``parameters`` (any value with an exact
    ``repr``), through the sharing folder when there is one and the study has a content key:
    read when another kernel has stored it, else computed (one kernel at a time per key, the
    others wait and then read) and stored."""
    folder = shared_dir()
    key = _key(study, parameters) if folder is not None else None
    if folder is None or key is None:  # no sharing folder, or a study without a content key
        return compute()
    path = folder / f"publicering-{key}.pickle"
    pub = _read(path, study)
    if pub is not None:
        return pub
    with _locked(folder / f"publicering-{key}.lock"):
        pub = _read(path, study)  # computed while this kernel waited for the lock
        if pub is not None:
            return pub
        with _read_log().capture() as reads:
            pub = compute()
        stored = {
            "publication": dataclasses.replace(pub, study=cast("Study", None)),  # the study is the kernel's own
            "reads": frozenset(reads),
        }
        with contextlib.suppress(OSError):  # a full disk: this kernel still has its publication
            atomic_write(path, pickle.dumps(stored, protocol=pickle.HIGHEST_PROTOCOL))
        return pub
