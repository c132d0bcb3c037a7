"""Generated tables shared by the tests of insats.intake.synth (generated once per test session
of this package: a Stockholm study of 20,000 persons takes seconds)."""

from __future__ import annotations

import pytest

from insats.intake import synth


@pytest.fixture(scope="package")
def sthlm():
    return synth.generate_tables("stockholm", seed=1, persons=3000)


@pytest.fixture(scope="package")
def sbg():
    return synth.generate_tables("sundbyberg", seed=1, persons=3000)


@pytest.fixture(scope="package")
def sthlm_large():
    return synth.generate_tables("stockholm", seed=2, persons=20000)


@pytest.fixture(scope="package", params=["stockholm", "sundbyberg"])
def both(request, sthlm, sbg):
    return request.param, (sthlm if request.param == "stockholm" else sbg)
