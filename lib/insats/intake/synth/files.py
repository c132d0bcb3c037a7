"""Writing a generated study: CSV or Parquet forms of the tables, and ``generate``, which builds the
folder beside its target and renames it into place, never replacing a folder of real data."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from insats.contract import TABLES
from insats.errors import UsageError
from insats.intake.synth.model import check_kind
from insats.intake.synth.tables import generate_tables


# --------------------------------------------------------------------------- writing
def _text_form(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """The CSV form of a table: ISO dates, YYYY-MM months, Ja/Nej, empty for missing."""
    spec = TABLES[name]
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        kind = spec[col].kind if col in spec else "text"
        s = df[col]
        if kind in ("date", "month"):
            fmt = "%Y-%m-%d" if kind == "date" else "%Y-%m"
            codes, uniques = pd.factorize(s, use_na_sentinel=True)
            labels = np.array([u.strftime(fmt) for u in pd.DatetimeIndex(uniques)] + [""], dtype=object)
            out[col] = labels[codes]
        elif kind == "bool":
            b = s.astype("boolean")
            out[col] = np.where(b.isna(), "", np.where(b.fillna(False), "Ja", "Nej"))
        elif kind == "float":
            v = s.astype("float64")
            whole = v.dropna()
            if len(whole) and np.all(whole == np.round(whole)):
                out[col] = v.astype("Int64")
            else:
                out[col] = v
        else:
            out[col] = s
    return out


def _parquet_form(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Months as ``YYYY-MM`` text (a categorical: few distinct values); other columns as they are."""
    spec = TABLES[name]
    out = df.copy()
    for col in df.columns:
        if col in spec and spec[col].kind == "month":
            codes, uniques = pd.factorize(df[col])
            labels = pd.Index([u.strftime("%Y-%m") for u in pd.DatetimeIndex(uniques)], dtype="string")
            out[col] = pd.Categorical.from_codes(codes, categories=labels)
    return out


def _write_table(name: str, df: pd.DataFrame, folder: Path, fmt: str) -> Path:
    """Write one table into folder (tests monkeypatch this to simulate a failure)."""
    if fmt == "parquet":
        frame = _parquet_form(name, df)
        arrow_type = {"date": pa.date32(), "bool": pa.bool_(), "int": pa.int64(), "float": pa.float64()}
        columns = []
        for col in frame.columns:
            kind = TABLES[name][col].kind if col in TABLES[name] else "text"
            arr = pa.Table.from_pandas(frame[[col]], preserve_index=False).column(0)
            columns.append(arr.cast(arrow_type.get(kind, pa.string())))
        table = pa.Table.from_arrays(columns, names=list(frame.columns))
        path = folder / f"{name}.parquet"
        pq.write_table(table, path, compression="zstd")
        return path
    path = folder / f"{name}.csv"
    _text_form(name, df).to_csv(path, index=False, encoding="utf-8", lineterminator="\n", na_rep="")
    return path


def _is_replaceable(out: Path) -> bool:
    """An existing folder may be replaced when it is empty or holds generated (synthetic) data."""
    if not any(out.iterdir()):
        return True
    meta = out / "studie.json"
    if not meta.is_file():
        return False
    try:
        return bool(json.loads(meta.read_text(encoding="utf-8")).get("syntetisk"))
    except (ValueError, OSError):
        return False


def generate(kind: str, out: Path | str, *, seed: int = 1, persons: int | None = None, fmt: str = "csv") -> Path:
    """Write a synthetic study folder (one file per table + ``studie.json``) and return its path.

    The folder is built in a temporary sibling and renamed into place; an existing folder is
    replaced only after the new one is complete, and only when it is empty or itself generated
    example data (its ``studie.json`` says ``"syntetisk": true``), so a folder of real data is
    never overwritten.
    """
    check_kind(kind)
    if fmt not in ("csv", "parquet"):
        raise UsageError(f"okänt filformat {fmt!r}: välj csv eller parquet")
    out = Path(out).resolve()
    check_replaceable(out)
    tables, meta = generate_tables(kind, seed=seed, persons=persons)
    return write_study(out, tables, meta, fmt)


def check_replaceable(out: Path) -> None:
    if out.exists():
        if not out.is_dir():
            raise FileExistsError(f"{out} finns redan och är ingen mapp")
        if not _is_replaceable(out):
            raise FileExistsError(
                f"{out} finns redan och innehåller inte syntetiska exempeldata; välj en ny eller tom mapp"
            )


def write_study(out: Path, tables: dict[str, pd.DataFrame], meta: dict, fmt: str) -> Path:
    """Write a generated study into ``out`` (built beside it and renamed into place)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.ny-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes the folder private; give it the usual permissions
    try:
        for name, df in tables.items():
            _write_table(name, df, tmp, fmt)
        (tmp / "studie.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.gammal-", dir=out.parent))
            old.rmdir()
            out.rename(old)
        try:
            tmp.rename(out)
        except BaseException:
            if old is not None:
                old.rename(out)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
