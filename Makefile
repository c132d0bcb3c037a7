# insats — each target creates .venv when missing (Python 3.11) and installs the pinned versions.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   := data/exempel

.PHONY: setup demo test test-fast dashboard lab data clean bench

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	-git config filter.nbstrip.clean "$(abspath $(BIN))/python -m insats.nbstrip"
	-git config filter.nbstrip.smudge cat
	touch $(STAMP)

# The synthetic example studies (deterministic: the same seed gives the same files).
data: $(DATA)/stockholm/studie.json $(DATA)/sundbyberg/studie.json

$(DATA)/stockholm/studie.json: $(STAMP) $(wildcard lib/insats/intake/synth/*.py)
	$(BIN)/insats generate stockholm --out $(DATA)/stockholm --seed 2013

$(DATA)/sundbyberg/studie.json: $(STAMP) $(wildcard lib/insats/intake/synth/*.py)
	$(BIN)/insats generate sundbyberg --out $(DATA)/sundbyberg --seed 2016

# The main job on the embedded example data: generate and validate the studies, compute every
# measure, and run both studies' reports and one profile per area (insats run; resumable).
demo: $(STAMP) data
	$(BIN)/insats validate $(DATA)/stockholm
	$(BIN)/insats validate $(DATA)/sundbyberg
	mkdir -p reports
	$(BIN)/insats measures $(DATA)/stockholm --out reports/stockholm_matt.xlsx --from 2012-01 --to 2013-12
	$(BIN)/insats measures $(DATA)/sundbyberg --out reports/sundbyberg_matt.xlsx --from 2015-01 --to 2016-12
	$(BIN)/insats run params/stockholm_2013.yaml
	$(BIN)/insats run params/sundbyberg_2016.yaml
	@echo "Klart. Framsidorna: reports/stockholm_2013/index.html och reports/sundbyberg_2016/index.html"

# The Voila dashboards for nämnd meetings, on 127.0.0.1 (no internet needed).
dashboard: $(STAMP) data
	$(BIN)/insats serve

# JupyterLab, where utredare work on the notebooks: 127.0.0.1 only, a token (printed below, in the
# address to open), the project's kernel (JUPYTER_PREFER_ENV_PATH: this .venv before a personal
# kernel), notebooks/ open, nothing fetched from the internet (no news, no update check, no
# extension listing: lib/insats/dashboards/lab/jupyter_lab_config.json; tests/dashboards/test_lab.py).
lab: $(STAMP) data
	JUPYTER_PREFER_ENV_PATH=1 $(BIN)/jupyter lab --config=lib/insats/dashboards/lab/jupyter_lab_config.json

# Lint (ruff), format check, types (mypy), then unit, architecture (import-linter), notebook (nbval
# runs every notebook with its default parameters) and browser tests.
test: $(STAMP) data
	$(BIN)/ruff check lib tests benchmarks
	$(BIN)/ruff format --check lib tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest --nbval-lax tests notebooks

test-fast: $(STAMP) data
	$(BIN)/python -m pytest -m "not slow and not browser" tests

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[bench]'
	$(BIN)/python benchmarks/measures.py

clean:
	rm -rf $(VENV) build reports $(DATA) .pytest_cache
