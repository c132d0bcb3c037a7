"""*Områdesprofil*: one district against the rest, its interventions and its spending."""

from __future__ import annotations

import time

import altair as alt
import numpy as np
import pandas as pd

from insats import charts, contract
from insats.analysis.measures import (
    measure_label,
)
from insats.analysis.privacy import SUPPRESSED, footnote, format_number
from insats.contract import ALLA, CENTRAL
from insats.dashboards.common import (
    DEFAULT_DATA,
    ChartView,
    DashboardData,
    _dropdown,
    _mark_ready,
    _page,
    _period_slider,
    _period_text,
    _w,
)

PROFILE_MEASURES = (
    "erbjudande_andel",
    "narvaro_andel_80",
    "utfall_arbete_studier_andel",
    "utfall_sjalvforsorjning_andel",
    "justerat_utfall_oe",
    "langvarigt_andel",
    "vagin_andel_30_dagar",
    "vagin_dagar_median",
    "lov_andel_valt",
    "utbud_insatser",
    "utbud_kategorier",
    "utbud_platser_per_100",
    "utbud_andel_narvarokrav",
    "medel_totalt",
    "medel_andel_feriejobb",
    "medel_per_deltagare",
)
"""Key figures of the Områdesprofil, in display order (those the study lacks are left out)."""


# --------------------------------------------------------------------------- Områdesprofil


def _rank(values: pd.Series, code: str) -> str:
    """``"3 av 14"`` (largest first) among published values; ``..`` when the area has none."""
    if code not in values.index or pd.isna(values.get(code)):
        return SUPPRESSED
    ranked = values.dropna().rank(ascending=False, method="min")
    return f"{int(ranked[code])} av {len(ranked)}"


def profile_values(long: pd.DataFrame, code: str, measures=PROFILE_MEASURES) -> pd.DataFrame:
    """Numbers behind the profile: per measure the area's published value (NaN when suppressed),
    the whole study's, and the median of the *other* areas' published values."""
    rows = []
    for m in measures:
        part = long[long["matt"] == m]
        if part.empty:
            continue
        areas = part[part["omrade_kod"].astype(str) != ALLA].set_index(
            part["omrade_kod"].astype(str)[part["omrade_kod"].astype(str) != ALLA]
        )
        shown = areas["varde"].where(~areas["undertryckt"].astype(bool))
        alla = part[part["omrade_kod"] == ALLA]
        alla_v = float(alla["varde"].iloc[0]) if len(alla) and not bool(alla["undertryckt"].iloc[0]) else np.nan
        others = shown.drop(index=code, errors="ignore")
        rows.append(
            {
                "matt": m,
                "omrade": float(shown.get(code, np.nan)) if code in shown.index else np.nan,
                "undertryckt": bool(code in areas.index and areas.loc[code, "undertryckt"]),
                "alla": alla_v,
                "median_ovriga": float(others.median()) if others.notna().any() else np.nan,
                "plats": _rank(shown, code),
            }
        )
    return pd.DataFrame(rows, columns=["matt", "omrade", "undertryckt", "alla", "median_ovriga", "plats"])


def profile_table(long: pd.DataFrame, code: str, name: str) -> pd.DataFrame:
    """Display table of an area's key figures against the whole study and the other areas."""
    vals = profile_values(long, code)
    out = pd.DataFrame(index=pd.Index([measure_label(m) for m in vals["matt"]], name="Mått"))
    unit = [charts.common.unit_of(m) for m in vals["matt"]]
    out[name] = [
        SUPPRESSED if s else (charts.format_value(v, u) or "–")
        for v, s, u in zip(vals["omrade"], vals["undertryckt"], unit)
    ]
    out["Hela studien"] = [charts.format_value(v, u) or SUPPRESSED for v, u in zip(vals["alla"], unit)]
    out["Median, övriga områden"] = [charts.format_value(v, u) or "–" for v, u in zip(vals["median_ovriga"], unit)]
    out["Plats (störst först)"] = list(vals["plats"])
    return out


def profile_chart(long: pd.DataFrame, code: str, name: str, *, min_cell: int = 5):
    """Bars of the area's shares next to the whole study and the other areas' median."""

    vals = profile_values(long, code)
    vals = vals[[charts.common.unit_of(m) == "andel" for m in vals["matt"]]]
    series = [(name, "omrade"), ("Hela studien", "alla"), ("Median, övriga områden", "median_ovriga")]
    rows = []
    for _, r in vals.iterrows():
        for label, col in series:
            v = r[col]
            hidden = bool(col == "omrade" and (r["undertryckt"] or pd.isna(v)))
            rows.append(
                {
                    "matt": measure_label(r["matt"]),
                    "serie": label,
                    "varde": None if pd.isna(v) else float(v),
                    "text": SUPPRESSED if hidden else charts.format_value(v, "andel"),
                    "dold": hidden,
                }
            )
    frame = pd.DataFrame(rows)
    domain = [s for s, _ in series]
    colors = [charts.FOCUS_COLOR, charts.TOTAL_COLOR, charts.OTHER_COLOR]
    base = alt.Chart()
    y = alt.Y("serie:N", sort=domain, title=None, axis=None)
    row = alt.Row(
        "matt:N",
        title=None,
        sort=list(dict.fromkeys(frame["matt"])) if len(frame) else None,
        header=alt.Header(labelAngle=0, labelAlign="left", labelAnchor="start", labelFontSize=14, labelLimit=320),
    )
    x_scale = alt.Scale(domain=[0, 1])
    bars = (
        base.mark_bar(height={"band": 0.8})
        .transform_filter("!datum.dold && isValid(datum.varde)")
        .encode(
            x=alt.X("varde:Q", title="Andel", axis=alt.Axis(format=".0%"), scale=x_scale),
            y=y,
            color=alt.Color(
                "serie:N",
                title=None,
                sort=domain,
                scale=alt.Scale(domain=domain, range=colors),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("matt:N", title="Mått"),
                alt.Tooltip("serie:N", title="Jämförelse"),
                alt.Tooltip("text:N", title="Värde"),
            ],
        )
    )
    labels = (
        base.mark_text(align="left", dx=4, baseline="middle", fontSize=12)
        .transform_filter("!datum.dold && isValid(datum.varde)")
        .encode(x=alt.X("varde:Q", scale=x_scale), y=y, text="text:N")
    )
    hidden = (
        base.mark_text(align="left", dx=4, baseline="middle", fontSize=14, fontWeight="bold", color=charts.MUTED_COLOR)
        .transform_filter("datum.dold")
        .encode(x=alt.value(0), y=y, text=alt.value(SUPPRESSED))
    )
    subtitle = [f"Vermiljon: {name}; svart: hela studien; grå: medianen av övriga områden."]
    if len(frame) and frame["dold"].any():
        subtitle.append(footnote(min_cell) + ".")
    return (
        alt.layer(bars, labels, hidden, data=alt.Data(values=charts.common.records(frame)))
        .properties(width=440, height=alt.Step(14))
        .facet(row=row, spacing=6)
        .properties(title=alt.TitleParams(f"{name} jämfört med övriga", subtitle=subtitle, anchor="start"))
        .resolve_scale(y="independent")
    )


INSATS_COLUMNS = {
    "namn": "Insats",
    "kategori": "Kategori",
    "regi": "Regi",
    "platser": "Platser",
    "narvarokrav": "Närvarokrav",
    "lov": "LOV",
    "raknas_som_insats": "Räknas som insats",
    "kostnad_per_plats_manad": "Kostnad per plats och månad",
}


def interventions_table(insatser: pd.DataFrame, code: str, names: dict[str, str]) -> pd.DataFrame:
    """The area's own and the city-wide (``CENTRAL``) interventions as a display table."""

    ins = insatser[insatser["omrade_kod"].astype(str).isin([code, CENTRAL])].copy()
    ins = ins.sort_values(["omrade_kod", "kategori", "namn"], key=lambda s: s.astype(str))
    out = pd.DataFrame(index=pd.Index(ins["namn"].astype(str), name="Insats"))
    out["Område"] = [names.get(str(c), str(c)) for c in ins["omrade_kod"]]
    out["Kategori"] = [contract.label("kategori", str(c)) for c in ins["kategori"]]
    out["Regi"] = [contract.label("regi", str(c)) for c in ins["regi"]]
    out["Platser"] = [format_number(v) for v in ins["platser"]]
    yn = lambda v: "" if pd.isna(v) else ("Ja" if bool(v) else "Nej")  # noqa: E731
    out["Närvarokrav"] = [yn(v) for v in ins["narvarokrav"]]
    out["Räknas som insats"] = [yn(v) for v in ins["raknas_som_insats"]]
    if "kostnad_per_plats_manad" in ins:
        out["Kostnad per plats och månad"] = [charts.format_value(v, "kr") for v in ins["kostnad_per_plats_manad"]]
    return out


def spending_table(medel: pd.DataFrame, code: str) -> pd.DataFrame:
    """The area's spending per year and category (kronor; money, not persons: nothing suppressed)."""
    m = medel[medel["omrade_kod"].astype(str) == code]
    if m.empty:
        return pd.DataFrame(index=pd.Index([], name="Kategori"))
    piv = m.assign(kategori=[contract.label("kategori_medel", str(c)) for c in m["kategori"]]).pivot_table(
        index="kategori", columns="ar", values="belopp", aggfunc="sum", fill_value=0
    )
    piv.index.name = "Kategori"
    piv.columns = [f"{int(c)}" for c in piv.columns]
    return piv.map(lambda v: charts.format_value(v, "kr"))


class ProfileDashboard:
    """*Områdesprofil*: one district against the rest, its interventions, its spending."""

    def __init__(self, data: DashboardData, *, omrade: str | None = None):
        self.data = data
        w = _w()
        areas = data.areas()
        codes = [c for _, c in areas]
        self.district = _dropdown(
            "Område", areas, omrade if omrade in codes else (codes[0] if codes else None), css="insats-district"
        )
        self.period = _period_slider(data)
        months = data.months
        self.start, self.end = months[0][1], months[-1][1]
        self.status = w.HTML()
        self.figures = ChartView("omradesprofil_nyckeltal")
        self.interventions = ChartView("omradesprofil_insatser", chart=False)
        self.spending = ChartView("omradesprofil_medel")
        self.district.observe(lambda _c: self.redraw(), names="value")
        self.period.observe(self._on_period, names="value")
        h = lambda t: w.HTML(f'<div class="insats-h1" style="font-size:20px">{t}</div>')  # noqa: E731
        lead = (
            "Välj ett område. Nyckeltalen jämförs med hela studien och med medianen av de "
            "övriga områdena; därefter områdets insatser och hur medlen används."
        )
        self.widget = _page(
            "Områdesprofil",
            lead,
            data,
            [
                w.HBox([self.district]),
                self.period,
                self.status,
                h("Nyckeltal"),
                self.figures.widget,
                h("Insatser"),
                self.interventions.widget,
                h("Medel"),
                self.spending.widget,
            ],
        )
        self.timings: dict[str, float] = {}
        self.redraw()

    def _on_period(self, change) -> None:
        self.start, self.end = change["new"]
        self.status.value = '<span class="insats-note">Beräknar …</span>'
        self.redraw()

    def redraw(self) -> None:
        t0 = time.perf_counter()
        long = self.data.cache.table(self.start, self.end)
        t1 = time.perf_counter()
        code = self.district.value
        if code is None:
            return
        name = self.data.names.get(code, code)
        period = _period_text(self.start, self.end)
        self.status.value = f'<span class="insats-note">Period: {period}.</span>'
        min_cell, names, omraden, study = self.data.min_cell, self.data.names, self.data.omraden, self.data.study
        self.figures.update(
            lambda: {
                "chart": profile_chart(long, code, name, min_cell=min_cell),
                "table": profile_table(long, code, name),
            }
        )
        if "insatser" in study:
            self.interventions.update(lambda: {"table": interventions_table(study["insatser"], code, names)})
        else:
            self.interventions.update(lambda: {"note": "Studien saknar tabellen insatser."})
        if "medel" in study:
            medel = study["medel"]
            self.spending.update(
                lambda: {
                    "chart": charts.spending_bars(
                        medel, omraden=omraden, focus=code, title=f"Medel per område och kategori ({name} i fetstil)"
                    ),
                    "table": spending_table(medel, code),
                }
            )
        else:
            self.spending.update(lambda: {"note": "Studien saknar tabellen medel."})
        self.timings = {"measures": t1 - t0, "draw": time.perf_counter() - t1}


def omradesprofil(data_dir=None, *, min_cell: int = 5, omrade: str | None = None):
    """The *Områdesprofil* dashboard (returns the object; display ``.widget``)."""
    charts.enable_offline()
    data = DashboardData.load(data_dir, min_cell=min_cell, default=DEFAULT_DATA["omradesprofil"])
    panel = ProfileDashboard(data, omrade=omrade)
    _mark_ready("omradesprofil")
    return panel
