"""Work done once per process: loaded studies and results of a study reused, never stale.

``load_cached(path)`` keeps loaded studies in memory, keyed by the study folder and the content
key (SHA-256 over its source files' SHA-256, ``insats.data.validated``), and hands out a fresh
``Study`` each time whose tables share memory with the kept one: under pandas' copy-on-write a
change to a handed-out table copies it first, so the kept study never changes. ``memoize`` does
the same for a function of a study (``compute_measures``): results are kept under the study's
content key and the other arguments, and each caller gets its own copy. Only a study handed out
by ``load_cached`` and unchanged since is served from memory: its tables, their columns and
their data buffers are compared with what was handed out (a change to a shared buffer always
makes a new one, by copy-on-write), and a study whose tables were replaced has no content key. A
report kernel of ``insats run`` keeps studies and results between reports, so a run loads each
study and computes its measures once per kernel. ``memoize_values`` keeps the results of a pure
function of numbers (arrays included) by the exact values of its arguments: a statistic every
district profile works out from the same published values (the rank intervals of the key figures,
the funnel plot's limits) is then worked out once per kernel, not once per profile.
``INSATS_CACHE=0`` turns the reuse off.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import inspect
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insats.data.study import READS, Study
from insats.data.validated import (
    COUNTS,
    combined_hash,
    current_hashes,
    enabled,
    forget_states,
    load_validated,
    source_files,
)

__all__ = ["MAX_RESULTS", "MAX_STUDIES", "MAX_VALUES", "detach", "forget", "load_cached", "memoize", "memoize_values"]

MAX_STUDIES = 4
"""Studies kept in memory per process (least recently used dropped first)."""
MAX_RESULTS = 32
"""Memoised results kept per process."""
MAX_VALUES = 256
"""Results of ``memoize_values`` functions kept per process (small: a rank table, a funnel's limits)."""


def detach(value: Any) -> Any:
    """A copy of a result that a caller may change without changing the kept one: DataFrames and
    Series are copied lazily (copy-on-write), containers and dataclasses rebuilt, the rest deep-copied."""
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return value.copy(deep=False)
    if isinstance(value, Study):
        out = Study(
            tables={n: df.copy(deep=False) for n, df in dict.items(value.tables)},
            path=value.path,
            sources=dict(value.sources),
            warnings=list(value.warnings),
            meta=copy.deepcopy(value.meta),
        )
        out.content_key = value.content_key
        return out
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: detach(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **fields)
    if isinstance(value, dict):
        return type(value)((k, detach(v)) for k, v in value.items()) if type(value) is dict else copy.deepcopy(value)
    if isinstance(value, list):
        return [detach(v) for v in value]
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(detach(v) for v in value)
    if value is None or isinstance(value, (str, bytes, int, float, bool, pd.Timestamp, dt.date, frozenset)):
        return value
    return copy.deepcopy(value)


@dataclass
class _Kept:
    value: Any
    reads: frozenset


_STUDIES: OrderedDict[tuple[str, str], Study] = OrderedDict()
_RESULTS: OrderedDict[tuple, _Kept] = OrderedDict()
_VALUES: OrderedDict[tuple, Any] = OrderedDict()
_MEMORY_LOCK = threading.RLock()


def forget() -> None:
    """Drop every study and result kept in memory (tests; a process that wants its memory back)."""
    with _MEMORY_LOCK:
        _STUDIES.clear()
        _RESULTS.clear()
        _VALUES.clear()
    forget_states()


def _fingerprint(study: Study) -> tuple | None:
    """The identity of a study's tables, columns, indexes and data buffers (pandas' block manager);
    None when it cannot be read (then nothing is served from memory)."""
    try:
        return tuple(
            (name, id(df), id(df.index), tuple(df.columns), tuple(id(b.values) for b in df._mgr.blocks))
            for name, df in dict.items(study.tables)
        )
    except AttributeError:
        return None


def _hand_out(study: Study) -> Study:
    object.__setattr__(study, "_handout", (study.content_key, _fingerprint(study)))
    return study


def _unchanged_since_handout(study: Study) -> bool:
    handout = study.__dict__.get("_handout")
    return handout is not None and handout[1] is not None and handout == (study.content_key, _fingerprint(study))


def load_cached(path: Path | str) -> Study:
    """``load_validated(path)`` once per content: later calls for an unchanged study get a new
    ``Study`` sharing the kept tables (see the module docstring). Raises ``StudyError`` like
    ``load_study``; a study with errors is never kept."""
    path = Path(path)
    if not enabled():
        return load_validated(path)
    folder = path.resolve()
    try:
        key = combined_hash(current_hashes(folder)) if source_files(folder) else None
    except OSError:
        key = None
    if key is not None:
        with _MEMORY_LOCK:
            kept = _STUDIES.get((str(folder), key))
            if kept is not None:
                _STUDIES.move_to_end((str(folder), key))
        if kept is not None:
            study = detach(kept)
            study.path = path
            study.sources = {
                n: dataclasses.replace(s, path=_rebase(s.path, kept.path, path)) for n, s in kept.sources.items()
            }
            study.record_loaded()
            COUNTS["minne"] += 1
            return _hand_out(study)
    study = load_validated(path)
    if study.content_key is not None:
        with _MEMORY_LOCK:
            _STUDIES[(str(folder), study.content_key)] = detach(study)
            while len(_STUDIES) > MAX_STUDIES:
                _STUDIES.popitem(last=False)
        _hand_out(study)  # after the kept copy exists: the tables' buffers are shared from now on
    return study


def _rebase(file: Path, old: Path | None, new: Path) -> Path:
    """A source file path as it would read had the study been loaded through ``new``."""
    if old is None:
        return file
    if Path(old) == file:  # a workbook study: the file is the study
        return new
    return new / file.name


class _Unkeyable(TypeError):
    pass


def _freeze(value: Any) -> Any:
    """A hashable, type-exact form of an argument (1, 1.0 and True stay different)."""
    if value is None or isinstance(value, (str, bytes, bool, int, float)):
        return (type(value).__name__, value)
    if isinstance(value, pd.Timestamp):
        return ("Timestamp", value.isoformat(), str(value.tz))
    if isinstance(value, (dt.date, dt.datetime)):
        return (type(value).__name__, value.isoformat())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_freeze(v) for v in value))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted((_freeze(v) for v in value), key=repr)))
    if isinstance(value, dict):
        return ("dict", tuple(sorted(((str(k), _freeze(v)) for k, v in value.items()), key=lambda kv: kv[0])))
    raise _Unkeyable(type(value).__name__)


def _recall(store: OrderedDict, key: tuple) -> Any:
    """The value kept under ``key`` (marked as used last), or None."""
    with _MEMORY_LOCK:
        kept = store.get(key)
        if kept is not None:
            store.move_to_end(key)
    return kept


def _keep(store: OrderedDict, key: tuple, value: Any, limit: int) -> None:
    """Keep ``value`` under ``key``, dropping the least recently used beyond ``limit``."""
    with _MEMORY_LOCK:
        store[key] = value
        while len(store) > limit:
            store.popitem(last=False)


def _arguments(signature: inspect.Signature, args: tuple, kwargs: dict) -> dict[str, Any] | None:
    """A call's arguments by name, defaults filled in; None when keeping is off (``enabled``) or
    the arguments do not fit the signature (the call then runs as it is, and raises its own error)."""
    if not enabled():
        return None
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    return dict(bound.arguments)


def memoize(func: Callable) -> Callable:
    """Keep ``func(study, ...)``'s results per study content and arguments (see module docstring).

    Only calls with a study handed out by ``load_cached`` and unchanged since are kept; calls
    with another study, or with an argument that has no exact key (a DataFrame, an object), are
    computed every time. Exceptions are never kept. The tables the computation read are recorded
    again in ``READS`` when a kept result is served.
    """
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        arguments = _arguments(signature, args, kwargs)
        if arguments is None:
            return func(*args, **kwargs)
        values = list(arguments.items())
        study = values[0][1] if values else None
        if not isinstance(study, Study) or not _unchanged_since_handout(study):
            return func(*args, **kwargs)
        content = study.content_key
        try:
            key = (func.__module__, func.__qualname__, content, _freeze(dict(values[1:])))
        except _Unkeyable:
            return func(*args, **kwargs)
        kept = _recall(_RESULTS, key)
        if kept is not None:
            READS.replay(kept.reads)
            COUNTS["minne_resultat"] += 1
            return detach(kept.value)
        with READS.capture() as reads:
            value = func(*args, **kwargs)
        COUNTS["berakning"] += 1
        if _unchanged_since_handout(study):  # the call did not change the study
            _keep(_RESULTS, key, _Kept(detach(value), frozenset(reads)), MAX_RESULTS)
        return value

    wrapper.__wrapped__ = func
    return wrapper


def _value_key(value: Any) -> Any:
    """An exact, hashable form of a numeric argument: a NumPy array by its type, shape and bytes
    (an object array by its values), a Series or Index by its values and index; else ``_freeze``."""
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            return ("ndarray", "O", value.shape, _freeze(value.tolist()))
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, pd.Index):
        return (
            "Index",
            str(value.dtype),
            value.names and tuple(map(str, value.names)),
            _value_key(np.asarray(value, dtype=object)),
        )
    if isinstance(value, pd.Series):
        return ("Series", str(value.dtype), str(value.name), _value_key(value.to_numpy()), _value_key(value.index))
    if isinstance(value, np.generic):
        return (type(value).__name__, value.item())
    return _freeze(value)


def memoize_values(func: Callable) -> Callable:
    """Keep a pure function's results by the exact values of its arguments (``_value_key``: arrays
    by their bytes, so equal values give the same key and any changed value another). Each caller
    gets its own copy (``detach``). A call with an argument that has no exact key (a DataFrame, an
    object) is computed every time; exceptions are never kept; ``INSATS_CACHE=0`` turns it off.
    Only for functions whose result depends on nothing but their arguments (no study, no file)."""
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        arguments = _arguments(signature, args, kwargs)
        if arguments is None:
            return func(*args, **kwargs)
        try:
            key = (func.__module__, func.__qualname__, tuple((k, _value_key(v)) for k, v in arguments.items()))
        except _Unkeyable:
            return func(*args, **kwargs)
        kept = _recall(_VALUES, key)
        if kept is not None:
            COUNTS["minne_varden"] += 1
            return detach(kept)
        value = func(*args, **kwargs)
        _keep(_VALUES, key, detach(value), MAX_VALUES)
        return value

    wrapper.__wrapped__ = func
    return wrapper
