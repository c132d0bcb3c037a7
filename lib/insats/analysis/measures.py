"""The measures of DESIGN.md ("Measures"), as pure functions over a loaded study.

Every measure returns a tidy table with one row per area and one for the whole study
(``omrade_kod == "ALLA"``) and the columns ``varde, taljare, namnare``; ``compute_measures``
stacks them into the long format ``matt, omrade_kod, varde, taljare, namnare, undertryckt`` and
sends the result through disclosure control (``insats.analysis.privacy``).

Definitions follow DESIGN.md exactly; where DESIGN.md leaves an edge case open, the choice is
made in the function's docstring and logged in ``docs/antaganden.md``. Choices that hold for all
measures:

* **Area of a person** is ``personer.omrade_kod`` (the district responsible for the person). A
  participation counts for the person's area, even when the intervention belongs to another
  area or is ``CENTRAL``.
* **Period** is whole months, ``start`` to ``end`` inclusive; a date is in the period when it
  falls between the first day of ``start`` and the last day of ``end``.
* **Adult recipient**: a person with at least one ``bistand`` month in the period in a year in
  which the person turns 18 or more (``manad.year - fodelsear >= 18``); *m0* is the first such
  month and *day0* its first day.
* **The data's end** (for follow-up) is the last month present in ``bistand``.

Speed: person ids are turned into integer positions once, and assistance months into a dense
person × month boolean panel, so that the 500,000-person study runs in seconds (see
``benchmarks/measures.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from insats import contract
from insats.analysis.privacy import protect_measures
from insats.analysis.stats import funnel_flags, observed_expected, variation
from insats.atomic import atomic_path
from insats.contract import ALLA, CENTRAL, HINDERGRUPP
from insats.data.cache import memoize
from insats.data.study import Study
from insats.errors import DataError, UsageError

# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Measure:
    id: str
    label: str
    """Swedish label for tables and charts."""
    unit: str
    """andel (share 0–1) | antal | kr | dagar | kvot | index | per_100"""
    needs: tuple[str, ...]
    personal: bool
    """True when taljare/namnare count persons (or their participations): disclosure control applies."""
    definition: str
    """Swedish one-line definition for report footnotes."""
    func: Callable[[Context], pd.DataFrame] | None = None
    count_is_personal: bool = True
    """For personal measures: whether ``taljare`` is a count of persons (else only ``namnare`` is)."""


MEASURES: dict[str, Measure] = {}


def _measure(id, label, unit, needs, personal, definition, count_is_personal=True):
    def register(func):
        MEASURES[id] = Measure(id, label, unit, tuple(needs), personal, definition, func, count_is_personal)
        return func

    return register


SHARE_MEASURES_FOR_EQUALITY = (
    "erbjudande_andel",
    "narvaro_andel_80",
    "utfall_arbete_studier_andel",
    "utfall_sjalvforsorjning_andel",
    "langvarigt_andel",
    "vagin_andel_30_dagar",
    "vagin_andel_insats_90_dagar",
    "lov_andel_valt",
)
"""Area shares whose variation across areas the likställighet rows describe."""

FUNNEL_CODES = {"under_998": -2, "under_95": -1, "inom": 0, "over_95": 1, "over_998": 2}
"""How funnel-plot flags are stored in ``varde`` of ``likstallighet_tratt__<matt>`` rows."""


# --------------------------------------------------------------------------- context


def _month(value) -> pd.Timestamp:
    return pd.Timestamp(value).to_period("M").to_timestamp()


@dataclass
class Params:
    start: pd.Timestamp
    end: pd.Timestamp
    erbjudande_dagar: int = 90
    erbjudande_alla_grupper: bool = False
    uppfoljning_manader: int = 3
    insats_dagar_efter_bedomning: int = 90
    min_cell: int = 5

    @property
    def first_day(self) -> pd.Timestamp:
        return self.start

    @property
    def last_day(self) -> pd.Timestamp:
        return self.end + pd.offsets.MonthEnd(0)

    def as_dict(self) -> dict:
        return {
            "fran": self.start.strftime("%Y-%m"),
            "till": self.end.strftime("%Y-%m"),
            "erbjudande_dagar": self.erbjudande_dagar,
            "erbjudande_alla_grupper": self.erbjudande_alla_grupper,
            "uppfoljning_manader": self.uppfoljning_manader,
            "insats_dagar_efter_bedomning": self.insats_dagar_efter_bedomning,
            "min_cell": self.min_cell,
        }


def default_period(study: Study) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The whole study: the first to the last ``bistand`` month, else the years of ``omraden``/``medel``."""
    if "bistand" in study and len(study["bistand"]):
        m = study["bistand"]["manad"]
        return _month(m.min()), _month(m.max())
    for name in ("omraden", "medel"):
        if name in study and len(study[name]):
            years = study[name]["ar"].dropna()
            return pd.Timestamp(int(years.min()), 1, 1), pd.Timestamp(int(years.max()), 12, 1)
    raise DataError("Studien har varken bistånd, områden eller medel: perioden kan inte bestämmas.")


class Context:
    """A study and its parameters, with the derived arrays that several measures share.

    Everything is computed lazily and once.
    """

    def __init__(self, study: Study, params: Params):
        self.study = study
        self.params = params

    # ---- areas
    @cached_property
    def areas(self) -> list[str]:
        """Area codes of the study (from ``omraden``, else from people and interventions), sorted."""
        s = self.study
        if "omraden" in s:
            codes = s["omraden"]["omrade_kod"].dropna().unique().tolist()
        else:
            codes = []
            for name in ("personer", "insatser"):
                if name in s:
                    codes += s[name]["omrade_kod"].dropna().unique().tolist()
        return sorted({str(c) for c in codes} - {CENTRAL})

    # ---- persons
    @cached_property
    def persons(self) -> pd.DataFrame:
        return self.study["personer"]

    @cached_property
    def person_index(self) -> pd.Index:
        return pd.Index(self.persons["person_id"])

    def person_pos(self, ids: pd.Series) -> np.ndarray:
        """Integer positions in ``personer`` for person ids (-1 when unknown).

        Arrow's hash kernel (``index_in``) is several times faster than ``Index.get_indexer``
        on Arrow strings for the millions of ``bistand`` rows."""

        keys = pa.array(self.persons["person_id"].astype("string"), from_pandas=True)
        found = pc.index_in(pa.array(ids.astype("string"), from_pandas=True), value_set=keys)
        return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)

    @cached_property
    def person_area(self) -> np.ndarray:
        """Area code per person position, as an object array (plus "" for unknown at the end)."""
        return np.append(self.persons["omrade_kod"].astype(object).to_numpy(), "")

    @cached_property
    def person_group(self) -> np.ndarray:
        """Hinder group per person position."""
        g = self.persons["forsorjningshinder"].astype(object).map(HINDERGRUPP)
        return np.append(g.to_numpy(dtype=object), None)

    @cached_property
    def birth_year(self) -> np.ndarray:
        return np.append(self.persons["fodelsear"].astype("float64").to_numpy(), np.nan)

    # ---- the assistance panel
    @cached_property
    def month0(self) -> pd.Timestamp:
        """First month of the panel: the earliest bistand month."""
        return _month(self.study["bistand"]["manad"].min())

    @cached_property
    def n_months(self) -> int:
        last = _month(self.study["bistand"]["manad"].max())
        return self.month_index(last) + 1

    def month_index(self, ts) -> np.ndarray | int:
        """Months since ``month0`` for timestamps (vectorised)."""
        if isinstance(ts, pd.Timestamp):
            return (ts.year - self.month0.year) * 12 + ts.month - self.month0.month
        ts = pd.DatetimeIndex(ts)
        return np.asarray((ts.year - self.month0.year) * 12 + ts.month - self.month0.month)

    @cached_property
    def panel(self) -> np.ndarray:
        """Boolean matrix persons × months: assistance paid that month (persons not in
        ``personer`` are left out; validation reports them)."""
        b = self.study["bistand"]
        pos = self.person_pos(b["person_id"])
        t = self.month_index(b["manad"])
        ok = pos >= 0
        panel = np.zeros((len(self.persons), self.n_months), dtype=bool)
        panel[pos[ok], t[ok]] = True
        return panel

    @cached_property
    def period_cols(self) -> tuple[int, int]:
        """Panel column range [a, b) of the period, clipped to the panel."""
        a = max(self.month_index(self.params.start), 0)
        b = min(self.month_index(self.params.end) + 1, self.n_months)
        return a, max(a, b)

    @cached_property
    def adult_months(self) -> np.ndarray:
        """Panel restricted to the period's months in which the person is 18 or older that year."""
        a, b = self.period_cols
        years = np.array([(self.month0 + pd.DateOffset(months=i)).year for i in range(a, b)])
        age_ok = (years[None, :] - self.birth_year[:-1, None]) >= 18
        return self.panel[:, a:b] & age_ok

    @cached_property
    def adult(self) -> np.ndarray:
        """Adult recipient in the period, per person position."""
        return self.adult_months.any(axis=1)

    @cached_property
    def day0(self) -> np.ndarray:
        """First day of m0 per person position (NaT for non-recipients), as datetime64[ns]."""
        a, _ = self.period_cols
        first = np.argmax(self.adult_months, axis=1) + a
        m0 = np.datetime64(self.month0.strftime("%Y-%m"), "M") + first.astype("timedelta64[M]")
        out = m0.astype("datetime64[ns]")
        out[~self.adult] = np.datetime64("NaT")
        return out

    # ---- participations
    @cached_property
    def participations(self) -> pd.DataFrame:
        """``deltaganden`` with person position, person's area, and the intervention's fields."""
        d = self.study["deltaganden"]
        out = pd.DataFrame(
            {
                "pos": self.person_pos(d["person_id"]),
                "start": d["start_datum"].to_numpy(),
                "slut": d["slut_datum"].to_numpy(),
                "erbjuden": d["erbjuden_datum"].to_numpy(),
                "planerade": d["planerade_timmar"].to_numpy(dtype="float64", na_value=np.nan),
                "narvaro": d["narvarotimmar"].to_numpy(dtype="float64", na_value=np.nan),
                "avslut": d["avslut"].astype(object).to_numpy(),
                "vald": d["vald_utforare"].astype("boolean").to_numpy(dtype=object, na_value=None),
            }
        )
        out["area"] = self.person_area[out["pos"].to_numpy()]
        if "insatser" in self.study:
            ins = self.study["insatser"]
            ipos = pd.Index(ins["insats_id"]).get_indexer(d["insats_id"])
            ok = ipos >= 0
            for col, src in (("kategori", "kategori"), ("regi", "regi"), ("utforare", "utforare")):
                vals = np.append(ins[src].astype(object).to_numpy(), None)
                out[col] = vals[np.where(ok, ipos, len(ins))]
            lov = ins["lov"].astype("boolean").fillna(False).to_numpy(dtype=bool)
            is_lov = lov | (ins["regi"].astype(object).to_numpy() == "lov")
            out["lov"] = np.append(is_lov, False)[np.where(ok, ipos, len(ins))]
        return out

    @cached_property
    def offered(self) -> np.ndarray:
        """Per person position: offered an intervention by day0 + ``erbjudande_dagar`` (the
        erbjudande_andel definition: erbjuden_datum, else start_datum, on or before that day, and
        the participation not ended before day0). All False without ``deltaganden``."""
        offered = np.zeros(len(self.persons), bool)
        if "deltaganden" not in self.study:
            return offered
        p = self.participations
        p = p[p["pos"] >= 0]
        offer = p["erbjuden"].fillna(p["start"]).to_numpy()
        d0 = self.day0[p["pos"].to_numpy()]
        limit = d0 + np.timedelta64(self.params.erbjudande_dagar, "D")
        slut = p["slut"].to_numpy()
        ok = (offer <= limit) & (np.isnat(slut) | (slut >= d0)) & ~np.isnat(d0)
        offered[p["pos"].to_numpy()[ok]] = True
        return offered

    # ---- shared by the utbud measures
    @cached_property
    def unemployed_recipients(self) -> dict[str, int]:
        return _count_unemployed(self)

    @cached_property
    def area_places(self) -> pd.DataFrame:
        return _area_places(self)

    def in_period(self, dates) -> np.ndarray:
        d = pd.DatetimeIndex(dates)
        return np.asarray((d >= self.params.first_day) & (d <= self.params.last_day + pd.Timedelta(hours=23)))


# --------------------------------------------------------------------------- helpers


def _per_area(
    ctx: Context, area: np.ndarray, num: np.ndarray | None, den: np.ndarray | None, *, value: str = "share"
) -> pd.DataFrame:
    """Sum numerator/denominator per area and overall; ``value`` share: num/den."""
    frame = pd.DataFrame({"area": area})
    if num is not None:
        frame["num"] = num.astype("float64")
    if den is not None:
        frame["den"] = den.astype("float64")
    sums = frame.groupby("area", sort=False).sum()
    rows = []
    for code in ctx.areas + [ALLA]:
        sel = sums.sum() if code == ALLA else (sums.loc[code] if code in sums.index else None)
        n = float(sel["num"]) if sel is not None and "num" in sums else 0.0
        d = float(sel["den"]) if sel is not None and "den" in sums else 0.0
        rows.append((code, n, d))
    out = pd.DataFrame(rows, columns=["omrade_kod", "taljare", "namnare"])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["varde"] = np.where(out["namnare"] > 0, out["taljare"] / out["namnare"], np.nan)
    return out[["omrade_kod", "varde", "taljare", "namnare"]]


def _stat_per_area(ctx: Context, area: np.ndarray, values: np.ndarray, stat: Callable) -> pd.DataFrame:
    """A statistic of values per area and overall; namnare = number of values."""
    frame = pd.DataFrame({"area": area, "v": values})
    rows = []
    for code in ctx.areas + [ALLA]:
        v = frame["v"] if code == ALLA else frame.loc[frame["area"] == code, "v"]
        rows.append((code, float(stat(v.to_numpy())) if len(v) else np.nan, np.nan, float(len(v))))
    return pd.DataFrame(rows, columns=["omrade_kod", "varde", "taljare", "namnare"])


# --------------------------------------------------------------------------- utbud


def open_interventions(ctx: Context) -> pd.DataFrame:
    """Interventions counted as intervention (``raknas_som_insats``) and open in the period.

    Open: ``giltig_fran`` empty or on/before the period's last day, and ``giltig_till`` empty or
    on/after its first day.
    """
    ins = ctx.study["insatser"]
    fran, till = ins["giltig_fran"], ins["giltig_till"]
    open_ = (fran.isna() | (fran <= ctx.params.last_day)) & (till.isna() | (till >= ctx.params.first_day))
    counted = ins["raknas_som_insats"].fillna(False).astype(bool)
    return ins[open_ & counted]


def _area_places(ctx: Context) -> pd.DataFrame:
    """Places per area, with CENTRAL places allocated to areas in proportion to the areas'
    adult recipients in hinder group arbetsloshet (equally when that is unknown).

    Columns: area, kategori, regi, narvarokrav, platser (float after allocation).
    """
    ins = open_interventions(ctx)
    own = ins[ins["omrade_kod"] != CENTRAL]
    central = ins[ins["omrade_kod"] == CENTRAL]
    parts = [
        pd.DataFrame(
            {
                "area": own["omrade_kod"].astype(object),
                "kategori": own["kategori"].astype(object),
                "regi": own["regi"].astype(object),
                "narvarokrav": own["narvarokrav"].fillna(False).astype(bool),
                "platser": own["platser"].astype("float64").fillna(0),
            }
        )
    ]
    if len(central) and ctx.areas:
        weights = _recipient_weights(ctx)
        for code, w in weights.items():
            parts.append(
                pd.DataFrame(
                    {
                        "area": code,
                        "kategori": central["kategori"].astype(object),
                        "regi": central["regi"].astype(object),
                        "narvarokrav": central["narvarokrav"].fillna(False).astype(bool),
                        "platser": central["platser"].astype("float64").fillna(0) * w,
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def _recipient_weights(ctx: Context) -> dict[str, float]:
    if ctx.study.has("personer", "bistand"):
        n = _unemployed_recipients(ctx)
        total = sum(n.values())
        if total > 0:
            return {a: n.get(a, 0) / total for a in ctx.areas}
    return {a: 1 / len(ctx.areas) for a in ctx.areas}


def _unemployed_recipients(ctx: Context) -> dict[str, int]:
    return ctx.unemployed_recipients


def _count_unemployed(ctx: Context) -> dict[str, int]:
    """Adult recipients in hinder group arbetsloshet, per area."""
    mask = ctx.adult & (ctx.person_group[:-1] == "arbetsloshet")
    counts = pd.Series(ctx.person_area[:-1][mask]).value_counts()
    return {a: int(counts.get(a, 0)) for a in ctx.areas}


@_measure(
    "utbud_insatser",
    "Antal insatser",
    "antal",
    ["insatser"],
    False,
    "Insatser som räknas som insats och är öppna under perioden; centrala räknas för alla områden.",
)
def utbud_insatser(ctx: Context) -> pd.DataFrame:
    ins = open_interventions(ctx)
    central = int((ins["omrade_kod"] == CENTRAL).sum())
    counts = ins.loc[ins["omrade_kod"] != CENTRAL, "omrade_kod"].value_counts()
    rows = [(a, float(counts.get(a, 0) + central)) for a in ctx.areas] + [(ALLA, float(len(ins)))]
    out = pd.DataFrame(rows, columns=["omrade_kod", "taljare"])
    return out.assign(varde=out["taljare"], namnare=np.nan)


@_measure(
    "utbud_kategorier",
    "Antal kategorier",
    "antal",
    ["insatser"],
    False,
    "Olika kategorier bland insatserna i utbud_insatser.",
)
def utbud_kategorier(ctx: Context) -> pd.DataFrame:
    ins = open_interventions(ctx)
    central = set(ins.loc[ins["omrade_kod"] == CENTRAL, "kategori"].astype(object))
    rows = []
    for a in ctx.areas:
        cats = set(ins.loc[ins["omrade_kod"] == a, "kategori"].astype(object)) | central
        rows.append((a, float(len(cats))))
    rows.append((ALLA, float(ins["kategori"].astype(object).nunique())))
    out = pd.DataFrame(rows, columns=["omrade_kod", "taljare"])
    return out.assign(varde=out["taljare"], namnare=np.nan)


@_measure(
    "utbud_platser_per_100",
    "Platser per 100 arbetslösa biståndsmottagare",
    "per_100",
    ["insatser", "personer", "bistand"],
    True,
    "Platser (centrala fördelade efter områdenas andel) per 100 vuxna biståndsmottagare med "
    "försörjningshinder arbetslöshet.",
    count_is_personal=False,
)
def utbud_platser_per_100(ctx: Context) -> pd.DataFrame:
    places = ctx.area_places
    n = _unemployed_recipients(ctx)
    per_area = places.groupby("area")["platser"].sum()
    rows = [(a, float(per_area.get(a, 0.0)), float(n.get(a, 0))) for a in ctx.areas]
    rows.append(
        (ALLA, float(open_interventions(ctx)["platser"].astype("float64").fillna(0).sum()), float(sum(n.values())))
    )
    out = pd.DataFrame(rows, columns=["omrade_kod", "taljare", "namnare"])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["varde"] = np.where(out["namnare"] > 0, 100 * out["taljare"] / out["namnare"], np.nan)
    return out


def _place_share(ctx: Context, mask_col: Callable[[pd.DataFrame], pd.Series]) -> pd.DataFrame:
    places = ctx.area_places
    num = places["platser"].where(mask_col(places), 0.0).to_numpy()
    if not ctx.areas:
        places = places.assign(area=ALLA)
    return _per_area(ctx, places["area"].to_numpy(dtype=object), num, places["platser"].to_numpy())


@_measure(
    "utbud_andel_narvarokrav",
    "Andel platser med närvarokrav",
    "andel",
    ["insatser"],
    False,
    "Platser med närvarokrav / alla platser (centrala fördelade på områdena).",
)
def utbud_andel_narvarokrav(ctx: Context) -> pd.DataFrame:
    return _place_share(ctx, lambda p: p["narvarokrav"])


def _regi_measure(regi: str):
    def func(ctx: Context) -> pd.DataFrame:
        return _place_share(ctx, lambda p: p["regi"] == regi)

    func.__name__ = f"utbud_andel_regi_{regi}"
    func.__doc__ = f"Share of places run in regi {regi}."
    return func


for _regi in contract.codes("regi"):
    _measure(
        f"utbud_andel_regi_{_regi}",
        f"Andel platser i regi: {contract.label('regi', _regi)}",
        "andel",
        ["insatser"],
        False,
        f"Platser i regi {contract.label('regi', _regi).lower()} / alla platser.",
    )(_regi_measure(_regi))


@_measure(
    "utbud_diversitet",
    "Mångfald i utbudet (Shannon)",
    "index",
    ["insatser"],
    False,
    "Shannons mångfaldsindex (naturlig logaritm) för platsernas fördelning över kategorier.",
)
def utbud_diversitet(ctx: Context) -> pd.DataFrame:
    """Shannon diversity H = -Σ p_k ln p_k over the places' categories (0 for one category)."""
    places = ctx.area_places

    def shannon(frame: pd.DataFrame) -> float:
        w = frame.groupby("kategori")["platser"].sum()
        w = w[w > 0]
        if w.sum() <= 0:
            return np.nan
        p = w / w.sum()
        return float(-(p * np.log(p)).sum())

    rows = [(a, shannon(places[places["area"] == a])) for a in ctx.areas]
    rows.append((ALLA, shannon(places)))
    out = pd.DataFrame(rows, columns=["omrade_kod", "varde"])
    return out.assign(taljare=np.nan, namnare=np.nan)


# --------------------------------------------------------------------------- medel


def _period_years(ctx: Context) -> list[int]:
    return list(range(ctx.params.start.year, ctx.params.end.year + 1))


def _medel(ctx: Context) -> pd.DataFrame:
    m = ctx.study["medel"]
    return m[m["ar"].isin(_period_years(ctx))]


def _medel_rows(ctx: Context, m: pd.DataFrame, num_mask: pd.Series | None) -> pd.DataFrame:
    area = m["omrade_kod"].astype(object)
    den = m["belopp"].astype("float64").fillna(0)
    num = den.where(num_mask, 0.0) if num_mask is not None else den
    codes = ctx.areas + ([CENTRAL] if (area == CENTRAL).any() else [])
    rows = []
    for code in codes + [ALLA]:
        sel = np.ones(len(m), bool) if code == ALLA else (area == code).to_numpy()
        rows.append((code, float(num[sel].sum()), float(den[sel].sum())))
    return pd.DataFrame(rows, columns=["omrade_kod", "taljare", "namnare"])


@_measure(
    "medel_totalt",
    "Medel totalt (kr)",
    "kr",
    ["medel"],
    False,
    "Summa belopp i medel för periodens år (alla kategorier, även de som inte räknas som insats).",
)
def medel_totalt(ctx: Context) -> pd.DataFrame:
    """SEK in the period. ``medel`` is yearly, so every year that overlaps the period counts whole."""
    out = _medel_rows(ctx, _medel(ctx), None)
    return out.assign(varde=out["taljare"], namnare=np.nan)


@_measure(
    "medel_andel_feriejobb",
    "Andel av medlen till feriejobb",
    "andel",
    ["medel"],
    False,
    "Belopp i kategori feriejobb / alla belopp.",
)
def medel_andel_feriejobb(ctx: Context) -> pd.DataFrame:
    m = _medel(ctx)
    out = _medel_rows(ctx, m, m["kategori"].astype(object) == "feriejobb")
    return out.assign(
        varde=np.where(out["namnare"] > 0, out["taljare"] / out["namnare"].where(out["namnare"] > 0), np.nan)
    )


@_measure(
    "medel_andel_raknas_som_insats",
    "Andel av medlen som räknas som insats",
    "andel",
    ["medel"],
    False,
    "Belopp som räknas som insats / alla belopp.",
)
def medel_andel_raknas_som_insats(ctx: Context) -> pd.DataFrame:
    m = _medel(ctx)
    out = _medel_rows(ctx, m, m["raknas_som_insats"].fillna(False).astype(bool))
    return out.assign(
        varde=np.where(out["namnare"] > 0, out["taljare"] / out["namnare"].where(out["namnare"] > 0), np.nan)
    )


@_measure(
    "medel_per_deltagare",
    "Medel per deltagare (kr)",
    "kr",
    ["medel", "deltaganden", "personer"],
    True,
    "Belopp som räknas som insats / personer som började en insats under perioden.",
    count_is_personal=False,
)
def medel_per_deltagare(ctx: Context) -> pd.DataFrame:
    """SEK counted as intervention per participant who started in the period.

    Participants are distinct persons, counted in their own area; CENTRAL spending is in the
    whole-study row only (it cannot be attributed to one area).
    """
    m = _medel(ctx)
    sek = _medel_rows(ctx, m, m["raknas_som_insats"].fillna(False).astype(bool)).set_index("omrade_kod")["taljare"]
    p = ctx.participations
    started = p[ctx.in_period(p["start"]) & (p["pos"] >= 0)].drop_duplicates("pos")
    counts = started["area"].value_counts()
    rows = [(a, float(sek.get(a, 0.0)), float(counts.get(a, 0))) for a in ctx.areas]
    rows.append((ALLA, float(sek.get(ALLA, 0.0)), float(len(started))))
    out = pd.DataFrame(rows, columns=["omrade_kod", "taljare", "namnare"])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["varde"] = np.where(out["namnare"] > 0, out["taljare"] / out["namnare"], np.nan)
    return out


# --------------------------------------------------------------------------- erbjudande


@_measure(
    "erbjudande_andel",
    "Andel som erbjudits insats inom 90 dagar",
    "andel",
    ["personer", "bistand", "deltaganden"],
    True,
    "Vuxna biståndsmottagare med försörjningshinder arbetslöshet som erbjudits en insats senast "
    "90 dagar efter första biståndsmånaden under perioden.",
)
def erbjudande_andel(ctx: Context) -> pd.DataFrame:
    """Among adult recipients in hinder group arbetsloshet (all groups with
    ``erbjudande_alla_grupper``), the share with a participation whose ``erbjuden_datum`` (else
    ``start_datum``) is on or before day0 + ``erbjudande_dagar`` and that had not ended before
    day0 (``slut_datum`` empty or on/after day0).

    An offer made before day0 that is still running at day0 counts. Persons whose m0 lies near
    the data's end have less than 90 days observed; they stay in the denominator, as the
    definition says (logged in docs/antaganden.md).
    """
    scope = ctx.adult.copy()
    if not ctx.params.erbjudande_alla_grupper:
        scope &= ctx.person_group[:-1] == "arbetsloshet"
    offered = ctx.offered
    area = ctx.person_area[:-1][scope]
    return _per_area(ctx, area, offered[scope], np.ones(int(scope.sum())))


# --------------------------------------------------------------------------- närvaro


def _attendance(ctx: Context) -> pd.DataFrame:
    """Participations overlapping the period with planned hours > 0 and attended hours given:
    columns area, ratio = min(narvarotimmar / planerade_timmar, 1)."""
    p = ctx.participations
    overlaps = (p["start"] <= ctx.params.last_day) & (p["slut"].isna() | (p["slut"] >= ctx.params.first_day))
    ok = overlaps & (p["planerade"] > 0) & p["narvaro"].notna()
    q = p[ok]
    return pd.DataFrame(
        {"area": q["area"].to_numpy(dtype=object), "ratio": np.minimum(q["narvaro"] / q["planerade"], 1.0).to_numpy()}
    )


@_measure(
    "narvaro_median",
    "Närvaro, median",
    "andel",
    ["deltaganden", "personer"],
    True,
    "Median av närvarotimmar / planerade timmar (högst 1) för deltaganden med planerade timmar > 0 "
    "som pågår under perioden.",
)
def narvaro_median(ctx: Context) -> pd.DataFrame:
    """Participations that overlap the period; those with planned hours 0 or empty, or attended
    hours empty, are left out. namnare = number of participations."""
    a = _attendance(ctx)
    return _stat_per_area(ctx, a["area"].to_numpy(), a["ratio"].to_numpy(), np.median)


@_measure(
    "narvaro_andel_80",
    "Andel deltaganden med minst 80 % närvaro",
    "andel",
    ["deltaganden", "personer"],
    True,
    "Andel av deltagandena i narvaro_median med närvaro minst 0,8.",
)
def narvaro_andel_80(ctx: Context) -> pd.DataFrame:
    a = _attendance(ctx)
    return _per_area(ctx, a["area"].to_numpy(), (a["ratio"] >= 0.8).to_numpy(), np.ones(len(a)))


# --------------------------------------------------------------------------- utfall


def ended_participations(ctx: Context) -> pd.DataFrame:
    """Participations whose ``slut_datum`` is in the period, with ``arbete_studier`` (avslut is
    arbete or studier; an empty avslut counts as neither)."""
    p = ctx.participations
    q = p[p["slut"].notna() & ctx.in_period(p["slut"]) & (p["pos"] >= 0)].copy()
    q["arbete_studier"] = q["avslut"].isin(["arbete", "studier"]).to_numpy()
    return q


@_measure(
    "utfall_arbete_studier_andel",
    "Andel avslut till arbete eller studier",
    "andel",
    ["deltaganden", "personer"],
    True,
    "Bland deltaganden som avslutades under perioden: andel med avslut arbete eller studier.",
)
def utfall_arbete_studier_andel(ctx: Context) -> pd.DataFrame:
    q = ended_participations(ctx)
    return _per_area(ctx, q["area"].to_numpy(), q["arbete_studier"].to_numpy(), np.ones(len(q)))


@_measure(
    "utfall_sjalvforsorjning_andel",
    "Andel utan bistånd efter avslutad insats",
    "andel",
    ["deltaganden", "personer", "bistand"],
    True,
    "Bland deltaganden som avslutades under perioden och vars tre följande månader finns i data: "
    "andel vars person saknar bistånd alla tre månaderna.",
)
def utfall_sjalvforsorjning_andel(ctx: Context) -> pd.DataFrame:
    """Follow-up months are the ``uppfoljning_manader`` calendar months after the end month;
    they must all be inside the data (on or before the last ``bistand`` month)."""
    q = ended_participations(ctx)
    k = ctx.params.uppfoljning_manader
    t_end = ctx.month_index(q["slut"])
    inside = (t_end + k <= ctx.n_months - 1) & (t_end + 1 >= 0)
    q, t_end = q[inside], t_end[inside]
    pos = q["pos"].to_numpy()
    any_aid = np.zeros(len(q), bool)
    for j in range(1, k + 1):
        any_aid |= ctx.panel[pos, t_end + j]
    return _per_area(ctx, q["area"].to_numpy(), ~any_aid, np.ones(len(q)))


@_measure(
    "langvarigt_andel",
    "Andel långvarigt biståndsmottagande",
    "andel",
    ["personer", "bistand"],
    True,
    "Andel av årets vuxna biståndsmottagare med bistånd 10–12 av årets månader (som Koladas N31814), "
    "för periodens hela kalenderår, sammanvägt över åren.",
)
def langvarigt_andel(ctx: Context) -> pd.DataFrame:
    """Pooled over the calendar years that lie wholly inside the period and inside the data:
    taljare = person-years with 10–12 months, namnare = person-years with ≥ 1 month as an adult
    (turning 18 or more that year). With no whole year the measure is empty (NaN)."""
    years = [
        y
        for y in _period_years(ctx)
        if pd.Timestamp(y, 1, 1) >= ctx.params.start and pd.Timestamp(y, 12, 1) <= ctx.params.end
    ]
    nums, dens, areas = [], [], []
    for y in years:
        a = ctx.month_index(pd.Timestamp(y, 1, 1))
        if a < 0 or a + 12 > ctx.n_months:
            continue
        months = ctx.panel[:, a : a + 12].sum(axis=1)
        adult = (y - ctx.birth_year[:-1]) >= 18
        sel = (months > 0) & adult
        nums.append(months[sel] >= 10)
        dens.append(np.ones(int(sel.sum())))
        areas.append(ctx.person_area[:-1][sel])
    if not nums:
        return _per_area(ctx, np.array([], dtype=object), np.array([]), np.array([]))
    return _per_area(ctx, np.concatenate(areas), np.concatenate(nums), np.concatenate(dens))


# --------------------------------------------------------------------------- en väg in


def _assessments(ctx: Context) -> pd.DataFrame:
    b = ctx.study["bedomningar"]
    b = b[ctx.in_period(b["ansokan_datum"])]
    pos = ctx.person_pos(b["person_id"])
    days = (b["bedomning_datum"] - b["ansokan_datum"]).dt.days.to_numpy(dtype="float64", na_value=np.nan)
    return pd.DataFrame(
        {
            "pos": pos,
            "area": ctx.person_area[pos],
            "days": days,
            "bedomd": b["bedomning_datum"].notna().to_numpy(),
            "bedomning": b["bedomning_datum"].to_numpy(),
            "resultat": b["resultat"].astype(object).to_numpy(),
        }
    )


_NEEDS_VAGIN = ["bedomningar", "personer"]


@_measure(
    "vagin_andel_bedomda",
    "Andel ansökningar med bedömning",
    "andel",
    _NEEDS_VAGIN,
    True,
    "Bland ansökningar under perioden: andel med bedömningsdatum.",
)
def vagin_andel_bedomda(ctx: Context) -> pd.DataFrame:
    a = _assessments(ctx)
    return _per_area(ctx, a["area"].to_numpy(), a["bedomd"].to_numpy(), np.ones(len(a)))


@_measure(
    "vagin_dagar_median",
    "Dagar till bedömning, median",
    "dagar",
    _NEEDS_VAGIN,
    True,
    "Median av dagar från ansökan till bedömning, för bedömda ansökningar under perioden.",
)
def vagin_dagar_median(ctx: Context) -> pd.DataFrame:
    a = _assessments(ctx)
    a = a[a["bedomd"]]
    return _stat_per_area(ctx, a["area"].to_numpy(), a["days"].to_numpy(), np.median)


@_measure(
    "vagin_dagar_p90",
    "Dagar till bedömning, 90:e percentilen",
    "dagar",
    _NEEDS_VAGIN,
    True,
    "90:e percentilen av dagar från ansökan till bedömning (linjär interpolation).",
)
def vagin_dagar_p90(ctx: Context) -> pd.DataFrame:
    a = _assessments(ctx)
    a = a[a["bedomd"]]
    return _stat_per_area(ctx, a["area"].to_numpy(), a["days"].to_numpy(), lambda v: np.percentile(v, 90))


@_measure(
    "vagin_andel_30_dagar",
    "Andel bedömda inom 30 dagar",
    "andel",
    _NEEDS_VAGIN,
    True,
    "Bland alla ansökningar under perioden: andel bedömda inom 30 dagar (ej bedömda räknas som inte inom 30).",
)
def vagin_andel_30_dagar(ctx: Context) -> pd.DataFrame:
    a = _assessments(ctx)
    return _per_area(ctx, a["area"].to_numpy(), (a["bedomd"] & (a["days"] <= 30)).to_numpy(), np.ones(len(a)))


@_measure(
    "vagin_andel_insats_90_dagar",
    "Andel med arbetsförmåga som börjar insats inom 90 dagar",
    "andel",
    ["bedomningar", "personer", "deltaganden"],
    True,
    "Bland bedömda med hel eller delvis arbetsförmåga: andel som börjar ett deltagande 0–90 dagar efter bedömningen.",
)
def vagin_andel_insats_90_dagar(ctx: Context) -> pd.DataFrame:
    """A start on the assessment day counts (0 days); a start before it does not."""
    a = _assessments(ctx)
    a = a[a["bedomd"] & a["resultat"].isin(["hel", "delvis"]) & (a["pos"] >= 0)].reset_index(drop=True)
    p = ctx.participations[["pos", "start"]]
    m = a.reset_index().merge(p, on="pos", how="left")
    days = (m["start"] - m["bedomning"]).dt.days
    m["hit"] = (days >= 0) & (days <= ctx.params.insats_dagar_efter_bedomning)
    hit = m.groupby("index")["hit"].any().reindex(range(len(a)), fill_value=False).to_numpy()
    return _per_area(ctx, a["area"].to_numpy(), hit, np.ones(len(a)))


# --------------------------------------------------------------------------- LOV


@_measure(
    "lov_andel_valt",
    "Andel som själva valt utförare (LOV)",
    "andel",
    ["deltaganden", "insatser", "personer"],
    True,
    "Bland deltaganden som började under perioden hos LOV-utförare: andel där personen själv valt utföraren.",
)
def lov_andel_valt(ctx: Context) -> pd.DataFrame:
    """An intervention is at a LOV provider when ``lov`` is Ja or ``regi`` is lov; an empty
    ``vald_utforare`` counts as not chosen."""
    p = ctx.participations
    q = p[p["lov"] & ctx.in_period(p["start"]) & (p["pos"] >= 0)]
    chosen = np.array([v is True for v in q["vald"]], dtype=bool)
    return _per_area(ctx, q["area"].to_numpy(), chosen, np.ones(len(q)))


# --------------------------------------------------------------------------- case-mix adjusted


OE_CATEGORICAL = ["kon", "utrikes_fodd", "utbildning", "hindergrupp", "aldersgrupp"]
OE_NUMERIC = ["manader_fore"]


def outcome_frame(ctx: Context) -> pd.DataFrame:
    """One row per participation ended in the period, with the outcome (arbete_studier) and the
    individual characteristics of the case-mix model.

    * age group at the start year (18–24, 25–34, 35–44, 45–54, 55+), so the model need not be linear in age;
    * months on assistance in the 12 calendar months before the start month (a bounded window,
      so people are comparable whatever the data's first month);
    * sex, born abroad (empty = its own level ``okand``), education (empty = okand), hinder group.
    """
    q = ended_participations(ctx)
    pos = q["pos"].to_numpy()
    pers = ctx.persons
    start_year = pd.DatetimeIndex(q["start"]).year.to_numpy()
    age = start_year - ctx.birth_year[pos]
    t0 = ctx.month_index(q["start"])
    cums = np.concatenate(
        [np.zeros((len(ctx.persons), 1), np.int32), np.cumsum(ctx.panel, axis=1, dtype=np.int32)], axis=1
    )
    lo = np.clip(t0 - 12, 0, ctx.n_months)
    hi = np.clip(t0, 0, ctx.n_months)
    before = cums[pos, hi] - cums[pos, lo]
    born = pers["utrikes_fodd"].astype("boolean").to_numpy(dtype=object, na_value=None)[pos]
    return pd.DataFrame(
        {
            "area": q["area"].to_numpy(),
            "kategori": q.get("kategori", pd.Series([None] * len(q))).to_numpy(),
            "arbete_studier": q["arbete_studier"].to_numpy().astype(int),
            "kon": pers["kon"].astype(object).to_numpy()[pos],
            "utrikes_fodd": np.array(
                ["ja" if b is True else "nej" if b is False else "okand" for b in born], dtype=object
            ),
            "utbildning": pers["utbildning"].astype(object).fillna("okand").to_numpy()[pos],
            "hindergrupp": ctx.person_group[pos],
            "aldersgrupp": pd.cut(
                age, [-np.inf, 24, 34, 44, 54, np.inf], labels=["18_24", "25_34", "35_44", "45_54", "55_plus"]
            ).astype(object),
            "manader_fore": before.astype(float),
        }
    )


@_measure(
    "justerat_utfall_oe",
    "Avslut till arbete/studier, observerat / förväntat",
    "kvot",
    ["deltaganden", "personer", "bistand"],
    True,
    "Observerade / förväntade avslut till arbete eller studier; förväntat från en logistisk modell av "
    "ålder, kön, utrikes född, utbildning, försörjningshinder och bistånd före start, skattad utan område.",
)
def justerat_utfall_oe(ctx: Context) -> pd.DataFrame:
    """O/E per area with a 95 % interval; the model is fitted once on all areas (without area).

    Extra rows are returned in ``attrs["extra"]`` (ids ``justerat_utfall_oe_lo``/``_hi`` and
    ``justerat_utfall_forvantat``) and stacked by ``compute_measures``.
    """

    frame = outcome_frame(ctx)
    rows = []
    if len(frame) and frame["arbete_studier"].nunique() == 2:
        oe = observed_expected(
            frame, outcome="arbete_studier", group="area", categorical=OE_CATEGORICAL, numeric=OE_NUMERIC
        )
        oe = oe.reindex(ctx.areas)
        oe[["observed", "n"]] = oe[["observed", "n"]].fillna(0)  # an area with no ended participations
        for a in ctx.areas:
            r = oe.loc[a]
            rows.append((a, r["oe"], r["observed"], r["n"], r["lo"], r["hi"], r["expected"]))
        n = float(len(frame))
        o = float(frame["arbete_studier"].sum())
        rows.append((ALLA, 1.0, o, n, np.nan, np.nan, o))
    else:
        rows = [(a, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan) for a in ctx.areas + [ALLA]]
    out = pd.DataFrame(rows, columns=["omrade_kod", "varde", "taljare", "namnare", "lo", "hi", "forvantat"])
    extra = []
    for col, mid in (
        ("lo", "justerat_utfall_oe_lo"),
        ("hi", "justerat_utfall_oe_hi"),
        ("forvantat", "justerat_utfall_forvantat"),
    ):
        extra.append(
            pd.DataFrame(
                {
                    "matt": mid,
                    "omrade_kod": out["omrade_kod"],
                    "varde": out[col],
                    "taljare": out["taljare"],
                    "namnare": out["namnare"],
                }
            )
        )
    result = out[["omrade_kod", "varde", "taljare", "namnare"]].copy()
    result.attrs["extra"] = extra
    return result


for _mid, _label in (
    ("justerat_utfall_oe_lo", "O/E, nedre gräns 95 %"),
    ("justerat_utfall_oe_hi", "O/E, övre gräns 95 %"),
    ("justerat_utfall_forvantat", "Förväntade avslut till arbete/studier"),
):
    MEASURES[_mid] = Measure(
        _mid,
        _label,
        "kvot" if "oe" in _mid else "antal",
        MEASURES["justerat_utfall_oe"].needs,
        True,
        MEASURES["justerat_utfall_oe"].definition,
        None,
    )


# --------------------------------------------------------------------------- likställighet


def likstallighet(long: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Variation across areas of each share in ``SHARE_MEASURES_FOR_EQUALITY``.

    Per measure: ``likstallighet_spannvidd__<m>`` (max − min), ``likstallighet_cv__<m>``
    (coefficient of variation) over the areas whose denominator is at least ``min_cell`` (smaller
    areas are left out so that a suppressed share cannot be read off the range), and per area
    ``likstallighet_tratt__<m>``: the funnel-plot flag against the whole-study share, coded
    -2 (under the 99.8 % limit), -1 (under 95 %), 0 (inside), 1 (over 95 %), 2 (over 99.8 %).
    """

    rows = []
    for m in SHARE_MEASURES_FOR_EQUALITY:
        part = long[long["matt"] == m]
        if part.empty:
            continue
        total = part[part["omrade_kod"] == ALLA]
        areas = part[(part["omrade_kod"] != ALLA) & (part["namnare"] >= min_cell)]
        if total.empty or areas.empty or not (total["namnare"].iloc[0] > 0):
            continue
        v = variation(areas["varde"])
        rows.append(
            {
                "matt": f"likstallighet_spannvidd__{m}",
                "omrade_kod": ALLA,
                "varde": v["range"],
                "taljare": np.nan,
                "namnare": float(v["n"]),
            }
        )
        rows.append(
            {
                "matt": f"likstallighet_cv__{m}",
                "omrade_kod": ALLA,
                "varde": v["cv"],
                "taljare": np.nan,
                "namnare": float(v["n"]),
            }
        )
        p0 = float(total["taljare"].iloc[0] / total["namnare"].iloc[0])
        flags = funnel_flags(areas["taljare"].to_numpy(), areas["namnare"].to_numpy(), p0)
        for code, n, flag in zip(areas["omrade_kod"], areas["namnare"], np.asarray(flags)):
            rows.append(
                {
                    "matt": f"likstallighet_tratt__{m}",
                    "omrade_kod": code,
                    "varde": float(FUNNEL_CODES[flag]),
                    "taljare": np.nan,
                    "namnare": float(n),
                }
            )
    return pd.DataFrame(rows, columns=["matt", "omrade_kod", "varde", "taljare", "namnare"])


def measure_label(mid: str) -> str:
    """Swedish label of a measure id, including the derived likställighet ids."""
    if mid in MEASURES:
        return MEASURES[mid].label
    for prefix, text in (
        ("likstallighet_spannvidd__", "Spännvidd mellan områden: "),
        ("likstallighet_cv__", "Variationskoefficient mellan områden: "),
        ("likstallighet_tratt__", "Trattdiagram, avvikelse: "),
    ):
        if mid.startswith(prefix):
            return text + measure_label(mid[len(prefix) :]).lower()
    return mid


# --------------------------------------------------------------------------- all measures

COLUMNS = ["matt", "omrade_kod", "varde", "taljare", "namnare", "undertryckt"]


@dataclass
class MeasureResult:
    table: pd.DataFrame
    """Published long table (disclosure control applied)."""
    params: dict
    skipped: list[str] = field(default_factory=list)
    """Swedish notes on measures left out and why."""
    raw: pd.DataFrame | None = field(default=None, repr=False)
    """The table before disclosure control: internal quality checks only, never publish."""


@memoize
def compute_measures(
    study: Study, *, start=None, end=None, min_cell: int = 5, only: list[str] | None = None, **options
) -> MeasureResult:
    """Every measure whose tables are present, in the long format, through disclosure control.

    ``start``/``end`` are months (``"YYYY-MM"`` or timestamps); by default the whole study.
    ``options`` set ``Params`` fields (``erbjudande_dagar``, ``erbjudande_alla_grupper``,
    ``uppfoljning_manader``, ``insats_dagar_efter_bedomning``).
    """

    d_start, d_end = default_period(study) if start is None or end is None else (None, None)
    params = Params(
        start=_month(start) if start is not None else d_start,
        end=_month(end) if end is not None else d_end,
        min_cell=min_cell,
        **options,
    )
    if params.end < params.start:
        raise UsageError(f"Perioden slutar ({params.end:%Y-%m}) före sin början ({params.start:%Y-%m}).")
    ctx = Context(study, params)
    parts, skipped = [], []
    for mid, m in MEASURES.items():
        if m.func is None or (only is not None and mid not in only):
            continue
        missing = [t for t in m.needs if t not in study]
        if missing:
            skipped.append((tuple(missing), mid))
            continue
        if mid.startswith("utbud_platser") and "bistand" not in study:
            continue
        res = m.func(ctx)
        parts.append(res.assign(matt=mid))
        parts.extend(res.attrs.get("extra", []))
    long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS[:-1])
    long = long[["matt", "omrade_kod", "varde", "taljare", "namnare"]].astype(
        {"varde": "float64", "taljare": "float64", "namnare": "float64"}
    )
    published = _protect(long, min_cell, protect_measures)
    # likställighet is computed from what is published: suppressed areas take no part in it
    visible = published[~published["undertryckt"]]
    published = pd.concat([published, likstallighet(visible, min_cell).assign(undertryckt=False)], ignore_index=True)
    raw = long.assign(undertryckt=False)
    raw = pd.concat([raw, likstallighet(raw, 1).assign(undertryckt=False)], ignore_index=True)
    notes = []
    for missing in dict.fromkeys(m for m, _ in skipped):
        ids = [mid for m, mid in skipped if m == missing]
        word = "tabellen" if len(missing) == 1 else "tabellerna"
        notes.append(f"{', '.join(ids)}: kräver {word} {', '.join(missing)}, som saknas i studien")
    return MeasureResult(table=_typed(published), params=params.as_dict(), skipped=notes, raw=_typed(raw))


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    table = table[COLUMNS].reset_index(drop=True)
    # allocated places are sums of fractions: drop floating-point dust (215.00000000000003)
    table[["taljare", "namnare"]] = table[["taljare", "namnare"]].round(9)
    return table.astype(
        {
            "matt": object,
            "omrade_kod": object,
            "varde": "float64",
            "taljare": "float64",
            "namnare": "float64",
            "undertryckt": bool,
        }
    )


def _is_personal(mid: str) -> bool:
    return MEASURES[mid].personal if mid in MEASURES else True


def _protect(long: pd.DataFrame, min_cell: int, protect) -> pd.DataFrame:
    """Disclosure control for person-based measures; counts of interventions and kronor are not
    about persons and pass unchanged. Where only the denominator counts persons (places per 100,
    SEK per participant), the numerator is not treated as a count of persons."""
    personal = long["matt"].map(_is_personal).astype(bool)
    out = long.copy()
    out["undertryckt"] = False
    if personal.any():
        sub = long[personal].copy()
        num_not_people = sub["matt"].map(lambda m: m in MEASURES and not MEASURES[m].count_is_personal).astype(bool)
        kept_num = sub["taljare"].copy()
        sub.loc[num_not_people, "taljare"] = np.nan
        prot = protect(sub, min_cell=min_cell).set_index(sub.index)
        prot.loc[num_not_people & ~prot["undertryckt"], "taljare"] = kept_num[num_not_people & ~prot["undertryckt"]]
        out.loc[personal, ["varde", "taljare", "namnare", "undertryckt"]] = prot[
            ["varde", "taljare", "namnare", "undertryckt"]
        ].to_numpy()
    out["undertryckt"] = out["undertryckt"].astype(bool)
    for col in ("varde", "taljare", "namnare"):
        out[col] = out[col].astype("float64")
    return out


# --------------------------------------------------------------------------- writing


def labels_table() -> pd.DataFrame:
    """Measure ids with Swedish labels, units and definitions (the second sheet of the XLSX)."""
    return pd.DataFrame(
        [{"Mått": m.id, "Benämning": m.label, "Enhet": m.unit, "Definition": m.definition} for m in MEASURES.values()]
    )


SWEDISH_HEADERS = {
    "matt": "Mått",
    "omrade_kod": "Områdeskod",
    "varde": "Värde",
    "taljare": "Täljare",
    "namnare": "Nämnare",
    "undertryckt": "Undertryckt",
}


def write_measures(result: MeasureResult, path: Path | str) -> Path:
    """Write the published table as CSV, XLSX or JSON (by extension), atomically.

    CSV and JSON are for machines: suppressed values are empty / null with ``undertryckt`` true.
    XLSX is for people: Swedish headers, ``..`` in suppressed cells, labels on a second sheet and
    the parameters on a third.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".csv", ".xlsx", ".json"):
        raise UsageError(f"Okänt filformat {path.suffix!r} för {path.name}: välj .csv, .xlsx eller .json.")

    with atomic_path(path) as tmp:
        table = result.table
        if ext == ".csv":
            table.to_csv(tmp, index=False)
        elif ext == ".json":
            payload = {
                "parametrar": result.params,
                "utelamnade": result.skipped,
                "matt": json.loads(table.to_json(orient="records", force_ascii=False)),
            }
            tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        else:
            shown = table.astype({"varde": object, "taljare": object, "namnare": object})
            for col in ("varde", "taljare", "namnare"):
                shown.loc[table["undertryckt"], col] = ".."
            shown["undertryckt"] = np.where(table["undertryckt"], "Ja", "Nej")
            shown.insert(1, "Benämning", table["matt"].map(measure_label))
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                shown.rename(columns=SWEDISH_HEADERS).to_excel(xw, sheet_name="Mått", index=False)
                labels_table().to_excel(xw, sheet_name="Benämningar", index=False)
                pd.DataFrame(
                    {"Parameter": list(result.params), "Värde": [str(v) for v in result.params.values()]}
                ).to_excel(xw, sheet_name="Parametrar", index=False)
    return path
