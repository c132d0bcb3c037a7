"""Areas and intervention catalogues of generated studies (insats.intake.synth.catalogue)."""

from __future__ import annotations

import pandas as pd
from scipy.stats import spearmanr

from insats.contract import CENTRAL, fold
from insats.intake import synth


def test_stockholm_areas_and_population(sthlm):
    t, meta = sthlm
    om = t["omraden"]
    assert len(om) == 28 and set(om["ar"]) == {2012, 2013}
    assert (om["kommun_kod"] == "0180").all()
    assert set(om["omrade_kod"]) == {fold(d[0]) for d in synth.STOCKHOLM_DISTRICTS}
    assert {"rinkeby_kista", "hagersten_liljeholmen", "alvsjo"} <= set(om["omrade_kod"])
    pop2011 = {fold(d[0]): d[1] for d in synth.STOCKHOLM_DISTRICTS}
    ratio = om["folkmangd"].astype(float) / om["omrade_kod"].map(pop2011)
    assert ratio.between(1.0, 1.06).all()
    share = om["folkmangd_18_64"].astype(float) / om["folkmangd"].astype(float)
    assert share.between(0.64, 0.72).all()
    assert meta["period"] == {"fran": "2012-01", "till": "2013-12"}


def test_recipients_are_distributed_like_2015(sthlm):
    t, _ = sthlm
    counts = t["personer"]["omrade_kod"].value_counts()
    ref = pd.Series({fold(d[0]): d[2] for d in synth.STOCKHOLM_DISTRICTS})
    rho = spearmanr(counts.reindex(ref.index), ref)[0]
    assert rho > 0.9
    assert counts.idxmax() == "rinkeby_kista"


def test_catalogues_differ_like_the_kartlaggning(sthlm):
    t, _ = sthlm
    ins = t["insatser"]
    counted = ins[ins["raknas_som_insats"].fillna(False).astype(bool) & (ins["omrade_kod"] != CENTRAL)]
    cats = counted.groupby("omrade_kod")["kategori"].nunique()
    assert cats.min() <= 2 and cats.max() >= 7
    assert {"egen_omrade", "egen_central", "upphandlad", "ideell", "arbetsformedlingen"} <= set(ins["regi"])
    assert (ins.loc[ins["omrade_kod"] == CENTRAL, "regi"] == "egen_central").all()
    fj = ins[ins["kategori"] == "feriejobb"].set_index("omrade_kod")["raknas_som_insats"].astype(bool)
    assert fj.any() and not fj.all()
    # medel: feriejobb lines counted exactly in the districts that count feriejobb
    m = t["medel"]
    mf = m[m["kategori"] == "feriejobb"].groupby("omrade_kod")["raknas_som_insats"].agg(lambda s: bool(s.all()))
    assert (mf.reindex(fj.index) == fj).all()
    assert "administration" in set(m["kategori"])
    assert not m.loc[m["kategori"] == "administration", "raknas_som_insats"].astype(bool).any()
    assert set(synth.planted_effects("stockholm")["feriejobb_raknas_som_insats"]) == set(fj.index[fj])
    for col in ("platser", "kostnad_per_plats_manad"):
        assert (ins[col].astype(float) > 0).all()


# --------------------------------------------------------------------------- planted effects
