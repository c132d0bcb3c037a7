"""A study and its parameters, and the derived arrays several measures share (persons, the
assistance panel, participations, open interventions and places per area)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from insats.contract import ALLA, CENTRAL, HINDERGRUPP
from insats.data.study import Study
from insats.errors import DataError

# --------------------------------------------------------------------------- context


def month_start(value) -> pd.Timestamp:
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
        return month_start(m.min()), month_start(m.max())
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
        return np.append(g.to_numpy(dtype=object), [None])

    @cached_property
    def birth_year(self) -> np.ndarray:
        return np.append(self.persons["fodelsear"].astype("float64").to_numpy(), np.nan)

    # ---- the assistance panel
    @cached_property
    def month0(self) -> pd.Timestamp:
        """First month of the panel: the earliest bistand month."""
        return month_start(self.study["bistand"]["manad"].min())

    @cached_property
    def n_months(self) -> int:
        last = month_start(self.study["bistand"]["manad"].max())
        return int(self.month_index(last)) + 1

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
        t = np.asarray(self.month_index(b["manad"]))
        ok = pos >= 0
        panel = np.zeros((len(self.persons), self.n_months), dtype=bool)
        panel[pos[ok], t[ok]] = True
        return panel

    @cached_property
    def period_cols(self) -> tuple[int, int]:
        """Panel column range [a, b) of the period, clipped to the panel."""
        a = max(int(self.month_index(self.params.start)), 0)
        b = min(int(self.month_index(self.params.end)) + 1, self.n_months)
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
        return np.asarray(self.adult_months.any(axis=1))

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
                vals = np.append(ins[src].astype(object).to_numpy(), [None])
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


def per_area(
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


def stat_per_area(ctx: Context, area: np.ndarray, values: np.ndarray, stat: Callable) -> pd.DataFrame:
    """A statistic of values per area and overall; namnare = number of values."""
    frame = pd.DataFrame({"area": area, "v": values})
    rows = []
    for code in ctx.areas + [ALLA]:
        v = frame["v"] if code == ALLA else frame.loc[frame["area"] == code, "v"]
        rows.append((code, float(stat(v.to_numpy())) if len(v) else np.nan, np.nan, float(len(v))))
    return pd.DataFrame(rows, columns=["omrade_kod", "varde", "taljare", "namnare"])


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
        n = ctx.unemployed_recipients
        total = sum(n.values())
        if total > 0:
            return {a: n.get(a, 0) / total for a in ctx.areas}
    return {a: 1 / len(ctx.areas) for a in ctx.areas}


def _count_unemployed(ctx: Context) -> dict[str, int]:
    """Adult recipients in hinder group arbetsloshet, per area."""
    mask = ctx.adult & (ctx.person_group[:-1] == "arbetsloshet")
    counts = pd.Series(ctx.person_area[:-1][mask]).value_counts()
    return {a: int(counts.get(a, 0)) for a in ctx.areas}


def period_years(ctx: Context) -> list[int]:
    """The calendar years the period touches (``medel`` is yearly)."""
    return list(range(ctx.params.start.year, ctx.params.end.year + 1))
