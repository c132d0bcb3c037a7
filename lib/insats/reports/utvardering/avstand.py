"""Distance to the labour market per person: the column ``personer.arbetsmarknadsavstand``, else a stand-in
from the latest assessment of work capacity (``bedomningar.resultat``), else nothing (``docs/antaganden.md``, U18).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from insats import contract
from insats.analysis.measures import Context

COLUMN = "arbetsmarknadsavstand"
"""The contract's column (``personer``) and code list."""

MISSING = "saknas"
"""The group of persons whose distance is not known."""

PROXY: dict[str, str] = {"hel": "nara", "delvis": "mellan", "ingen": "langt"}
"""Assessment result -> distance, when the column is empty (``oklar`` says nothing about the distance)."""

SOURCE_COLUMN, SOURCE_PROXY = "personer", "bedomningar"


@dataclass(frozen=True)
class Distance:
    """Distance code per person position (``MISSING`` where unknown) and where it comes from: ``SOURCE_COLUMN``,
    ``SOURCE_PROXY`` or None (nothing to go on: every person is ``MISSING``)."""

    codes: np.ndarray
    source: str | None


def distance_label(code: str) -> str:
    """Swedish label of a distance code, ``Uppgift saknas`` for ``MISSING``."""
    return "Uppgift saknas" if code == MISSING else contract.label(COLUMN, code)


STANDING: dict[str, str] = {
    "nara": "nära arbetsmarknaden",
    "mellan": "varken nära eller långt från arbetsmarknaden",
    "langt": "långt från arbetsmarknaden",
}
"""Where a distance group stands, for sentences about persons ("de som står …", "personer som står …"):
the one wording of the groups in running text (the tables use ``distance_label``)."""


def standing(code: str) -> str:
    """``nara`` -> "nära arbetsmarknaden" (``STANDING``); another code: its label in lower case."""
    return STANDING.get(code) or distance_label(code).lower()


def distance_order() -> list[str]:
    """Display order: the contract's codes, then ``MISSING``."""
    return [*contract.codes(COLUMN), MISSING]


def person_distance(ctx: Context) -> Distance:
    """The distance to the labour market of every person in ``personer`` (by position).

    * ``personer.arbetsmarknadsavstand`` when the column has any value; persons without one are ``MISSING``;
    * else, with ``bedomningar``, the result of the person's latest assessment made on or before the period's
      last day (latest ``bedomning_datum``, ties by ``ansokan_datum``; assessments without a date or a result
      are passed over): hel → nära, delvis → mellan, ingen → långt, oklar → ``MISSING``;
    * else every person is ``MISSING`` and ``source`` is None.
    """
    persons = ctx.persons
    n = len(persons)
    if COLUMN in persons and persons[COLUMN].notna().any():
        codes = persons[COLUMN].astype(object).where(persons[COLUMN].notna(), MISSING).to_numpy(dtype=object)
        return Distance(codes, SOURCE_COLUMN)
    codes = np.full(n, MISSING, dtype=object)
    if "bedomningar" not in ctx.study or not len(ctx.study["bedomningar"]):
        return Distance(codes, None)
    b = ctx.study["bedomningar"]
    b = b[b["bedomning_datum"].notna() & b["resultat"].notna() & (b["bedomning_datum"] <= ctx.params.last_day)]
    if not len(b):
        return Distance(codes, None)
    b = b.assign(_pos=ctx.person_pos(b["person_id"]))
    b = b[b["_pos"] >= 0].sort_values(["_pos", "bedomning_datum", "ansokan_datum"], kind="stable")
    latest = b.drop_duplicates("_pos", keep="last")
    mapped = latest["resultat"].astype(object).map(PROXY).fillna(MISSING)
    codes[latest["_pos"].to_numpy()] = mapped.to_numpy(dtype=object)
    return Distance(codes, SOURCE_PROXY)


def distance_note(source: str | None) -> str:
    """What the distance rests on, in plain Swedish, and what a municipality can add."""
    how = (
        "Lägg till kolumnen `arbetsmarknadsavstand` (Avstånd till arbetsmarknaden) i `personer` med koderna "
        "`nara`, `mellan` eller `langt` (handläggarens bedömning; se `data/README.md`)."
    )
    if source == SOURCE_COLUMN:
        return (
            "*Avstånd till arbetsmarknaden* är handläggarens bedömning i `personer` (nära, mellan, långt). Personer "
            "utan bedömning visas som *Uppgift saknas*."
        )
    if source == SOURCE_PROXY:
        return (
            "**Avståndet till arbetsmarknaden saknas i uppgifterna** (kolumnen `arbetsmarknadsavstand` i `personer` "
            "är tom). Som ersättning används personens senaste bedömning av arbetsförmåga: hel arbetsförmåga räknas "
            "som nära, delvis som mellan och ingen som långt från arbetsmarknaden. Det är en grov ersättning, och "
            "personer utan bedömning visas som *Uppgift saknas*. " + how
        )
    return (
        "**Avståndet till arbetsmarknaden kan inte visas:** kolumnen `arbetsmarknadsavstand` i `personer` är tom "
        "och studien har inga bedömningar av arbetsförmåga (`bedomningar`) att använda i stället. " + how
    )


def with_distance(frame: pd.DataFrame, distance: Distance) -> pd.DataFrame:
    """``frame`` (rows with a person position ``pos``) with the column ``arbetsmarknadsavstand``."""
    return frame.assign(**{COLUMN: distance.codes[frame["pos"].to_numpy(dtype=np.int64)]})
