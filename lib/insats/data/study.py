"""A loaded study: the contract's tables as typed pandas DataFrames, with their provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from insats.contract import TABLES, empty_table


@dataclass(frozen=True)
class SourceFile:
    """Where a table came from: file, sheet (XLSX workbook) and the file's SHA-256."""

    table: str
    path: Path
    format: str  # csv | xlsx | parquet
    sha256: str
    sheet: str | None = None

    @property
    def display(self) -> str:
        """The name a user recognises: ``insatser.csv`` or ``studie.xlsx, blad insatser``."""
        return f"{self.path.name}, blad {self.sheet}" if self.sheet else self.path.name


@dataclass
class Study:
    """The tables of one study, typed as ``insats.contract`` says; absent tables are absent."""

    tables: dict[str, pd.DataFrame]
    path: Path | None = None
    sources: dict[str, SourceFile] = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    """Validation warnings (``insats.data.validate.Problem``) found while loading."""
    meta: dict = field(default_factory=dict)
    """Contents of the study folder's ``studie.json`` (e.g. ``{"syntetisk": true, ...}``)."""

    @property
    def synthetic(self) -> bool:
        """True for generated example data, which every report must label *syntetiska exempeldata*."""
        return bool(self.meta.get("syntetisk"))

    def __getitem__(self, name: str) -> pd.DataFrame:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"studien saknar tabellen {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def get(self, name: str) -> pd.DataFrame | None:
        """The table, or None when the study does not have it."""
        return self.tables.get(name)

    def has(self, *names: str) -> bool:
        """True when every named table is present."""
        return all(n in self.tables for n in names)

    @property
    def missing(self) -> list[str]:
        return [n for n in TABLES if n not in self.tables]

    @classmethod
    def from_frames(cls, **frames: pd.DataFrame) -> Study:
        """A study from DataFrames that already hold canonical values (tests, generators).

        Columns the contract knows are cast to its dtypes; optional columns that are absent are
        added empty, so code can rely on every contract column being there.
        """
        tables = {}
        for name, df in frames.items():
            spec = TABLES[name]
            out = pd.DataFrame(index=pd.RangeIndex(len(df)))
            for col in spec.columns:
                if col.name in df:
                    values = df[col.name].reset_index(drop=True)
                    if col.kind in ("date", "month"):
                        values = pd.to_datetime(values, format="ISO8601").astype("datetime64[ns]")
                        if col.kind == "month":
                            values = values.dt.to_period("M").dt.to_timestamp()
                    out[col.name] = values.astype(col.dtype)
                else:
                    out[col.name] = empty_table(name)[col.name].reindex(out.index)
            tables[name] = out
        return cls(tables=tables)
