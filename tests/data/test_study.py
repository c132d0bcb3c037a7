"""The Study container: access to its tables."""

import pandas as pd

from insats.data.study import Study


def test_get_gives_the_table_or_none():
    omraden = pd.DataFrame({"omrade_kod": ["A"], "omrade": ["Alfa"], "kommun_kod": ["0180"], "ar": [2013]})
    study = Study.from_frames(omraden=omraden)
    assert study.get("omraden") is study["omraden"]
    assert list(study.get("omraden")["omrade_kod"]) == ["A"]
    assert study.get("personer") is None
    assert "personer" not in study
