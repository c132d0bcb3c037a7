"""``insats.charts.common.measure_rows``: the rows one chart of a measure is drawn from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insats.charts.common import measure_rows
from insats.contract import ALLA


def _long() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "omrade_kod": ["01", "02", "02", ALLA, "03", "01"],
            "matt": ["andel", "andel", "antal", "andel", "andel", "antal"],
            "varde": [0.5, 0.25, 7.0, 0.4, 0.9, 3.0],
            "taljare": [5.0, 2.0, np.nan, 12.0, 9.0, np.nan],
            "namnare": [10.0, 8.0, np.nan, 30.0, 10.0, np.nan],
            "undertryckt": [False, None, False, False, True, False],
        }
    )


def test_the_measures_rows_with_names_the_total_apart_and_suppressed_numbers_blank():
    long = _long()
    before = long.copy()
    areas, alla = measure_rows(long, "andel", {"01": "Norr", "02": "Söder"})
    assert list(areas["omrade_kod"]) == ["01", "02", "03"]
    assert list(areas["omrade"]) == ["Norr", "Söder", "03"]  # a code without a name keeps its code
    assert list(areas["undertryckt"]) == [False, False, True]  # a missing flag is not suppressed
    # the suppressed area shows no number at all, whatever the table held for it
    assert areas.loc[2, ["varde", "taljare", "namnare"]].isna().all()
    assert areas.loc[0, "varde"] == 0.5 and areas.loc[1, "namnare"] == 8.0
    assert alla is not None and alla["varde"] == 0.4 and alla["namnare"] == 30.0
    assert list(areas.columns) == [*long.columns, "omrade"]
    pd.testing.assert_frame_equal(long, before)  # the caller's table is left as it was


def test_missing_columns_are_blank_and_numbers_written_as_text_are_read():
    long = _long().drop(columns=["taljare", "undertryckt"])
    long["varde"] = long["varde"].astype(str).where(long["omrade_kod"] != "02", "inte ett tal")
    areas, _ = measure_rows(long, "andel", {})
    assert areas["taljare"].isna().all() and areas["taljare"].dtype == float
    assert list(areas["undertryckt"]) == [False, False, False]
    assert areas["varde"].dtype == float
    assert areas.loc[0, "varde"] == 0.5 and np.isnan(areas.loc[1, "varde"])


def test_a_measure_without_an_all_areas_row_and_an_unknown_measure():
    areas, alla = measure_rows(_long(), "antal", {})
    assert alla is None and list(areas["varde"]) == [7.0, 3.0]
    with pytest.raises(ValueError, match="finns inte"):
        measure_rows(_long(), "saknas", {})
