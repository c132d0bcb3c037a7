"""Text alternatives of the charts (insats.charts.accessible): every builder's description, reading and
table, each reading checked against the data by another route; theme colours against WCAG contrast."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest

from insats import charts as C
from insats.charts import accessible as A
from insats.charts import theme
from insats.charts.offline import chart_html

# --------------------------------------------------------------------------- data

NAMES = [
    "Norrby", "Söderby", "Västby", "Österby", "Mitten", "Kvarnby", "Ängby", "Sjöby",
    "Bergby", "Dalby", "Åby", "Lundby", "Skogby", "Hageby", "Strandby", "Backby",
]  # fmt: skip


def funnel_long(seed: int = 7) -> pd.DataFrame:
    """Sixteen areas around 40 %, one drawn from 58 % and one from 25 %, with bases from 200 to 900."""
    rng = np.random.default_rng(seed)
    n = rng.integers(200, 900, size=len(NAMES)).astype(float)
    p = np.full(len(NAMES), 0.40)
    p[1], p[6] = 0.58, 0.25
    t = rng.binomial(n.astype(int), p).astype(float)
    rows = [("erbjudande_andel", f"K{i}", t[i] / n[i], t[i], n[i], False) for i in range(len(NAMES))]
    rows.append(("erbjudande_andel", "ALLA", t.sum() / n.sum(), t.sum(), n.sum(), False))
    return pd.DataFrame(rows, columns=["matt", "omrade_kod", "varde", "taljare", "namnare", "undertryckt"])


OMRADEN = pd.DataFrame({"omrade_kod": [f"K{i}" for i in range(len(NAMES))], "omrade": NAMES})


def _named(sentence: str, part: str) -> set[str]:
    """District names that a part of the reading ("över …" / "under …") lists."""
    m = re.search(part + r"[^;.]*? ligger ([^;.(]+)", sentence)
    if not m:
        return set()
    return {x.strip() for x in re.split(r",| och ", m.group(1)) if x.strip()}


# --------------------------------------------------------------------------- funnel


def test_funnel_reading_names_the_districts_outside_the_drawn_limits():
    long = funnel_long()
    chart = C.funnel_plot(long, "erbjudande_andel", omraden=OMRADEN)
    spec = chart.to_dict()
    # independent route: the limit lines the chart draws, interpolated at each district's base
    limits = pd.DataFrame(spec["layer"][0]["data"]["values"])
    adjusted = limits[limits["slag"] == C.ADJUSTED_LIMITS]
    assert len(adjusted), "three or more districts: the adjusted limits are drawn"
    over, under = set(), set()
    for code, name in zip(OMRADEN["omrade_kod"], OMRADEN["omrade"]):
        row = long[long["omrade_kod"] == code].iloc[0]
        line = {side: adjusted[adjusted["sida"] == f"{side}_95_justerad"].sort_values("n") for side in ("lo", "hi")}
        hi = np.interp(row["namnare"], line["hi"]["n"], line["hi"]["andel"])
        lo = np.interp(row["namnare"], line["lo"]["n"], line["lo"]["andel"])
        if row["varde"] > hi:
            over.add(name)
        elif row["varde"] < lo:
            under.add(name)
    assert over and under, "the example must have districts on both sides"
    reading = A.text_alternative(spec)["lasning"]
    assert _named(reading, "Över") == over
    assert _named(reading, "under") == under
    inside = len(NAMES) - len(over) - len(under)
    assert f"{inside} områden ligger inom" in reading
    assert spec["description"].endswith(reading)
    assert spec["description"].startswith("Trattdiagram")


def test_funnel_points_have_shapes_per_flag_and_every_district_named():
    spec = C.funnel_plot(funnel_long(), "erbjudande_andel", omraden=OMRADEN).to_dict()
    points = spec["layer"][2]
    shape = points["encoding"]["shape"]
    assert shape["legend"] is not None and shape["title"].startswith("Läge")
    labels = dict(zip(shape["scale"]["domain"], shape["scale"]["range"]))
    flag_of = {v: k for k, v in C.FUNNEL_FLAG_LABELS.items()}
    assert all(C.FUNNEL_FLAG_SHAPES[flag_of[label]] == s for label, s in labels.items())
    assert len(set(labels.values())) == len(labels)  # one shape per class
    texts = [lay for lay in spec["layer"][3:] if lay["mark"]["type"] == "text"]
    named = {r["omrade"] for lay in texts for r in lay["data"]["values"]}
    assert named == set(NAMES)


def test_funnel_reading_when_all_inside():
    long = funnel_long()
    long.loc[long["omrade_kod"] != "ALLA", "varde"] = 0.40
    long.loc[long["omrade_kod"] != "ALLA", "taljare"] = (long["namnare"] * 0.40).round()
    long.loc[long["omrade_kod"] != "ALLA", "varde"] = long["taljare"] / long["namnare"]
    alla = long["omrade_kod"] == "ALLA"
    long.loc[alla, "taljare"] = long.loc[~alla, "taljare"].sum()
    long.loc[alla, "varde"] = long.loc[alla, "taljare"] / long.loc[alla, "namnare"]
    reading = A.text_alternative(C.funnel_plot(long, "erbjudande_andel", omraden=OMRADEN).to_dict())["lasning"]
    assert reading.startswith(f"Alla {len(NAMES)} områden")


# --------------------------------------------------------------------------- bars and the rest


def test_ranking_reading_highest_and_lowest_from_the_table():
    long = funnel_long()
    long.loc[long["omrade_kod"] == "K4", ["varde", "taljare", "namnare"]] = np.nan
    long.loc[long["omrade_kod"] == "K4", "undertryckt"] = True
    spec = C.ranked_bars(long, "erbjudande_andel", omraden=OMRADEN).to_dict()
    alt_text = A.text_alternative(spec)
    areas = long[(long["omrade_kod"] != "ALLA") & ~long["undertryckt"]].set_index("omrade_kod")["varde"]
    hi, lo = (
        dict(zip(OMRADEN["omrade_kod"], NAMES))[areas.idxmax()],
        dict(zip(OMRADEN["omrade_kod"], NAMES))[areas.idxmin()],
    )
    assert f"högst i {hi} ({C.format_value(areas.max(), 'andel')})" in alt_text["lasning"]
    assert f"lägst i {lo} ({C.format_value(areas.min(), 'andel')})" in alt_text["lasning"]
    assert "1 område visas inte" in alt_text["lasning"]
    table = alt_text["tabell"]
    rows = {r[0]: r for r in table["rader"]}
    assert rows["Mitten"][1] == ".."  # suppressed K4 shown as .., never as a number
    assert set(NAMES) <= set(rows) and "Alla områden" in rows


def test_spending_reading_from_the_medel_table():
    medel = pd.DataFrame(
        {
            "omrade_kod": ["K0", "K0", "K1", "K2", "K2", "CENTRAL"],
            "ar": 2024,
            "kategori": ["kurs", "feriejobb", "kurs", "feriejobb", "kurs", "matchning"],
            "belopp": [1e6, 2e6, 5e5, 9e5, 1e5, 9e6],
            "raknas_som_insats": True,
        }
    )
    spec = C.spending_bars(medel, omraden=OMRADEN).to_dict()
    reading = A.text_alternative(spec)["lasning"]
    sums = medel[medel["omrade_kod"] != "CENTRAL"].groupby("omrade_kod")["belopp"].sum()
    name = dict(zip(OMRADEN["omrade_kod"], NAMES))
    assert reading.startswith(f"Mest medel har {name[sums.idxmax()]} ({C.format_value(sums.max(), 'kr')})")
    assert f"minst {name[sums.idxmin()]}" in reading
    feri = medel[medel["kategori"] == "feriejobb"].groupby("omrade_kod")["belopp"].sum() / sums
    assert f"feriejobb är störst andel i {name[feri.idxmax()]} ({C.format_value(feri.max(), 'andel')})" in reading


def test_flow_matrix_series_and_profile_have_text_alternatives():
    flow = A.text_alternative(C.flow_steps({"ansokan": 200, "bedomd": 150, "arbetsformaga": 90, "insats_90": 45}))
    assert flow == {}  # not a spec: text_alternative reads specs
    flow = A.text_alternative(
        C.flow_steps({"ansokan": 200, "bedomd": 150, "arbetsformaga": 90, "insats_90": 45}).to_dict()
    )
    assert flow["lasning"] == "Av 200 vid steget ansökan når 45 (22,5\u00a0%) steget insats inom 90 dagar."
    ins = pd.DataFrame({"omrade_kod": ["K0", "K1", "K1", "CENTRAL"], "kategori": ["kurs", "kurs", "matchning", "kurs"]})
    ins["platser"] = [5, 7, 30, 100]
    m = A.text_alternative(C.utbud_matrix(ins, omraden=OMRADEN).to_dict())
    assert m["lasning"].startswith("Flest platser har Söderby (37)")  # CENTRAL is not a district
    frame = pd.DataFrame(
        {"manad": pd.date_range("2015-01-01", periods=4, freq="MS"), "andel": [0.2, 0.3, 0.25, 0.4], "grupp": "A"}
    )
    s = A.text_alternative(C.time_series(frame, "manad", "andel", unit="andel", color="grupp").to_dict())
    assert s["lasning"] == "Från A: 20,0\u00a0% (januari 2015) till 40,0\u00a0% (april 2015)."
    assert [r[0] for r in s["tabell"]["rader"]] == ["januari 2015", "februari 2015", "mars 2015", "april 2015"]


def test_chart_html_shows_reading_and_table_escaped():
    hostile = OMRADEN.assign(omrade=["<script>alert(1)</script>"] + NAMES[1:])
    spec = C.ranked_bars(funnel_long(), "erbjudande_andel", omraden=hostile).to_dict()
    page = chart_html(spec)
    figure = page[page.index("<figure") :]
    assert "<script>alert(1)</script>" not in figure.split("</script>", 1)[1]
    assert html.escape("<script>alert(1)</script>") in figure
    assert '<figcaption class="insats-lasning"' in figure
    assert "<details" in figure and "<summary>Visa tabell</summary>" in figure
    assert '<th scope="col">Område</th>' in figure
    assert "<details" not in chart_html(spec, data_table=False)


# --------------------------------------------------------------------------- contrast


def contrast(a: str, b: str = "#FFFFFF") -> float:
    """WCAG 2.1 contrast ratio of two sRGB colours (relative luminance, 1.4.3 definition)."""

    def lum(hex_: str) -> float:
        rgb = [int(hex_.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula_on_known_pairs():
    assert contrast("#000000") == pytest.approx(21.0)
    assert contrast("#777777") == pytest.approx(4.48, abs=0.01)  # the classic just-too-light grey


def test_theme_text_colours_reach_4_5_to_1():
    cfg = theme.theme_config()["config"]
    texts = [
        cfg["title"]["color"],
        cfg["title"]["subtitleColor"],
        cfg["axis"]["labelColor"],
        cfg["axis"]["titleColor"],
        cfg["text"]["color"],
        theme.MUTED_COLOR,
    ]
    low = {c: round(contrast(c), 2) for c in texts if contrast(c) < 4.5}
    assert low == {}


def test_theme_graphics_colours_reach_3_to_1():
    """Marks that carry meaning on their own: bars, points, lines, the focus area, the whole study."""
    marks = [theme.BASE_COLOR, theme.FOCUS_COLOR, theme.OTHER_COLOR, theme.TOTAL_COLOR, theme.MUTED_COLOR]
    low = {c: round(contrast(c), 2) for c in marks if contrast(c) < 3.0}
    assert low == {}


def test_category_and_palette_colours_reach_3_to_1():
    """The spending chart's category colours and the palette every other coloured legend draws from."""
    colours = {**theme.CATEGORY_COLORS, **{f"palett {i}": c for i, c in enumerate(theme.PALETTE)}}
    low = {k: round(contrast(c), 2) for k, c in colours.items() if contrast(c) < 3.0}
    assert low == {}
    assert len(set(theme.CATEGORY_COLORS.values())) == len(theme.CATEGORY_COLORS)  # one colour per category


def test_capacity_reading_from_the_places():
    frame = pd.DataFrame(
        {
            "kategori": ["Kurs", "Kurs", "Kurs", "Praktik", "Praktik", "Praktik"],
            "stapel": ["Behövs", "Behövs", "Finns", "Behövs", "Behövs", "Finns"],
            "platser": [10.0, 5.0, 12.0, 20.0, 8.5, 9.0],
        }
    )
    reading = A.capacity_reading(frame, need="Behövs", have="Finns")
    # by hand: need 15 + 28,5 = 43,5 against 21; shortfall Kurs 3, Praktik 19,5
    assert reading == (
        "Om alla i omfattningen nås behövs i genomsnitt 43,5 platser samtidigt, mot 21,0 i dag; "
        "störst brist i Praktik (19,5 platser för lite)."
    )
