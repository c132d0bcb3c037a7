"""Everything one study publishes, protected as one: the measures and every report table.

``study_publication`` is what notebooks, profiles, dashboards and the measures file call. It
builds ``insats.analysis.publication.publish`` with the report tables that go out with the
measures registered in the same disclosure model:

* the **rest of the study** that every district profile shows beside the district (the whole
  study minus the district): a total in disguise, so its counts are cells of their own, related to
  the district and the whole study (``ALLA = district + rest``) and protected like any other;
* the **utvärdering's tables** (offer by age and hinder group, attendance per intervention and per
  month, providers, regi, interventions, en väg in), registered by running the five sections once
  with the publication active (``protect_shares`` then registers instead of deciding), when the
  study has participations.

The decisions depend only on the data and the parameters, so a report, a profile, a dashboard
and the measures file made from the same study hide the same counts.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from insats import contract
from insats.analysis.disclosure import CellKey, Finding, audit_manifest, dims_of, manifest, protection_problem
from insats.analysis.measures.compute import make_params, raw_measures
from insats.analysis.measures.context import Params
from insats.analysis.measures.publish import period_label
from insats.analysis.measures.registry import MEASURES, counts_of
from insats.analysis.publication import Publication, data_years, publication_periods, publish, record, replay
from insats.atomic import atomic_write
from insats.contract import ALLA, CENTRAL
from insats.data.study import Study
from insats.errors import DataError, UsageError
from insats.reports import utvardering as evaluation_module
from insats.reports.sharing import shared_part, shared_publication
from insats.reports.utvardering.delperioder import link_whole_study

__all__ = [
    "MANIFEST_NAME",
    "REST_MEASURES",
    "audit_folder",
    "evaluation_parameters",
    "evaluation_tail",
    "finding_line",
    "is_manifest",
    "manifest_path",
    "manifest_text",
    "register_evaluation",
    "register_rest_of_study",
    "study_publication",
    "write_manifest",
]

REST_MEASURES: dict[str, float] = {
    **dict.fromkeys(
        (
            "erbjudande_andel",
            "narvaro_andel_80",
            "utfall_arbete_studier_andel",
            "utfall_sjalvforsorjning_andel",
            "langvarigt_andel",
            "vagin_andel_bedomda",
            "vagin_andel_30_dagar",
            "vagin_andel_insats_90_dagar",
            "vagin_andel_overlamnade",
            "vagin_andel_ombedomningar",
            "lov_andel_valt",
            "utbud_andel_narvarokrav",
            "medel_andel_feriejobb",
            "medel_andel_raknas_som_insats",
        ),
        1.0,
    ),
    **{f"utbud_andel_regi_{r}": 1.0 for r in contract.codes("regi")},
    "utbud_platser_per_100": 100.0,
    "medel_per_deltagare": 1.0,
    "medel_totalt": 0.0,
}
"""Measures whose ``ALLA`` numerator and denominator are sums over the areas (and ``CENTRAL``),
so that the rest of the study is ``scale · (T − t) / (N − n)``; scale 0 marks a sum
(``medel_totalt``: the rest is ``T − t``). Left out on purpose: counts of distinct interventions
or categories (a central intervention counts in every area), medians, the diversity index, O/E
(its expected count is model-based). ``medel_per_deltagare`` is in: its ``ALLA`` row is the areas'
own money over their participant-months (central money is a row of its own)."""

_CACHE: list[tuple[Study, tuple, Publication]] = []
_CACHE_SIZE = 4


def forget_publications() -> None:
    """Drop the publications kept for study objects (``study_publication``). A report kernel of
    ``insats run`` calls this between reports: each report loads its own study object, so a kept
    publication can never be served again, and four of them (tens of thousands of objects) made
    every later garbage collection slower."""
    _CACHE.clear()


def register_rest_of_study(pub: Publication) -> None:
    """Register, for every area and publication period, the counts of the rest of the study."""
    d = pub.disclosure
    all_groups = bool(pub.options.get("erbjudande_alla_grupper", False))
    for period, long in pub.raws.items():
        for matt in REST_MEASURES:
            m = MEASURES.get(matt)
            if m is None or not m.personal:
                continue
            part = long[long["matt"] == matt]
            if part.empty:
                continue
            t_count, n_count = counts_of(matt, all_groups=all_groups)
            rows = {str(r.omrade_kod): r for r in part.itertuples(index=False)}
            if ALLA not in rows:
                continue
            tot = rows[ALLA]
            for area, r in rows.items():
                if area in (ALLA, CENTRAL):
                    continue
                cells = {}
                for count, col in ((t_count, "taljare"), (n_count, "namnare")):
                    if count is None:
                        continue
                    whole = d.index.get(CellKey(count, (), period))
                    own = d.index.get(CellKey(count, dims_of(omrade=area), period))
                    if whole is None or own is None:
                        continue
                    rest = d.cell(
                        CellKey(count, dims_of(ovriga=area), period),
                        float(getattr(tot, col)) - float(getattr(r, col)),
                        origin=f"områdesprofil: {matt}",
                    )
                    d.add_sum(whole, [own, rest], label=f"området och övriga områden är hela studien ({count})")
                    cells[col] = rest
                if m.unit == "andel" and len(cells) == 2:
                    d.add_share(cells["taljare"], cells["namnare"])


def register_evaluation(
    pub: Publication, evaluation: dict[str, Any], tail: Callable[[pd.DataFrame, str], list] | None = None
) -> None:
    """Register the utvärdering's tables for the longest publication period: the five sections run
    once with the publication collecting (their output is thrown away; only the counts remain).
    The last three (LOV, interventions, en väg in) are recorded and replayed (``evaluation_tail``),
    so that ``tail(raw, span)`` may give them worked out by another kernel (``study_publication``)."""
    study = pub.study
    if not study.has(*EVALUATION_TABLES):
        return
    start, end = (f"{p[:7]}" for p in pub.span.split(":"))
    min_cell = pub.disclosure.min_cell
    ctx = evaluation_module.make_context(study, start, end, min_cell=min_cell, omfattning=evaluation["omfattning"])
    raw = pub.raws[pub.span]
    evaluation_module.section_offer(ctx, raw, min_cell=min_cell)
    if evaluation.get("reform_datum"):
        evaluation_module.section_attendance(ctx, raw, evaluation["reform_datum"], min_cell=min_cell)
    records = tail(raw, pub.span) if tail is not None else evaluation_tail(study, raw, pub.span, min_cell, evaluation)
    replay(pub, records)
    link_whole_study(pub)


EVALUATION_TABLES = ("personer", "bistand", "deltaganden")
"""The tables without which a study has no utvärdering to register."""


def evaluation_tail(study: Study, raw: pd.DataFrame, span: str, min_cell: int, evaluation: dict[str, Any]) -> list:
    """The registrations of the utvärdering's last three sections (LOV, interventions, en väg in:
    about two thirds of its time) for the longest publication period ``span``, recorded
    (``record``) for ``register_evaluation`` to replay."""
    start, end = (f"{p[:7]}" for p in span.split(":"))

    def collect(_: Publication) -> None:
        ctx = evaluation_module.make_context(study, start, end, min_cell=min_cell, omfattning=evaluation["omfattning"])
        evaluation_module.section_lov(
            ctx,
            raw,
            min_cell=min_cell,
            lov_min_deltagare=evaluation["lov_min_deltagare"],
            reform_datum=evaluation.get("reform_datum"),
        )
        evaluation_module.section_interventions(ctx, raw, min_cell=min_cell)
        evaluation_module.section_path(ctx, raw, min_cell=min_cell)

    return record(study, {span: raw}, collect)


def evaluation_parameters(study: Study, evaluation: dict[str, Any] | None, *, all_groups: bool) -> dict[str, Any]:
    """The utvärdering's parameters: given, else the study's own (``studie.json``) and the defaults."""
    out = {
        "reform_datum": study.meta.get("reform_datum"),
        "omfattning": "alla" if all_groups else "arbetsloshet",
        "lov_min_deltagare": 20,
    }
    out.update({k: v for k, v in (evaluation or {}).items() if v is not None})
    return out


def study_publication(
    study: Study,
    *,
    min_cell: int = 5,
    protection: float | None = None,
    evaluation: dict[str, Any] | None = None,
    **options: Any,
) -> Publication:
    """The study's publication (cached for the study object and the parameters; under
    ``insats serve`` computed once for all kernels: ``insats.reports.sharing``). ``protection``:
    the protection level ``skyddsniva`` (None: ``min_cell``; ``protection_problem``)."""
    problem = protection_problem(protection, min_cell)
    if problem:
        raise UsageError(f"skyddsniva: {problem}.")
    evaluation = evaluation_parameters(study, evaluation, all_groups=bool(options.get("erbjudande_alla_grupper")))
    key = (min_cell, protection, tuple(sorted(options.items())), tuple(sorted(evaluation.items())))
    for cached_study, cached_key, pub in _CACHE:
        if cached_study is study and cached_key == key:
            return pub
    parts = _SharedParts(study, key, min_cell, evaluation, options)
    hooks = [register_rest_of_study, lambda p: register_evaluation(p, evaluation, parts.tail)]
    pub = shared_publication(
        study,
        key,
        lambda: publish(
            study, min_cell=min_cell, protection=protection, hooks=hooks, first=parts.longest_measures, **options
        ),
        helpers=[parts.help],
    )
    _CACHE.append((study, key, pub))
    del _CACHE[:-_CACHE_SIZE]
    return pub


@dataclasses.dataclass
class _SharedParts:
    """The parts of a study's publication that kernels sharing a folder (``insats.reports.sharing``)
    work out once: the longest period's raw measures and the utvärdering's last sections. The
    kernel that computes the publication asks for them in turn; a kernel that finds it computing
    works them out meanwhile (``help``), so the computing kernel reads the recorded sections
    instead of running them: on two cores, a batch run's publication is ready about a second
    sooner. Without a sharing folder each is simply computed."""

    study: Study
    key: tuple
    min_cell: int
    evaluation: dict[str, Any]
    options: dict[str, Any]

    def longest_measures(self, params: Params) -> tuple[pd.DataFrame, list[str]]:
        return shared_part(self.study, self.key, "längsta periodens mått", lambda: raw_measures(self.study, params))

    def tail(self, raw: pd.DataFrame, span: str) -> list:
        return shared_part(
            self.study,
            self.key,
            "utvärderingens sista avsnitt",
            lambda: evaluation_tail(self.study, raw, span, self.min_cell, self.evaluation),
        )

    def help(self) -> None:
        """Work out both parts for a kernel that computes the publication (a waiting kernel's help)."""
        if not self.study.has(*EVALUATION_TABLES):
            return
        a, b = publication_periods(*data_years(self.study))[0]
        raw, _ = self.longest_measures(make_params(self.study, a, b, self.min_cell, **self.options))
        self.tail(raw, period_label(a, b))


MANIFEST_NAME = "publicering.json"
"""The published record of a run (``insats audit`` reads it): every count, shown or hidden. A
record written beside a measures file ``X.csv`` is ``X.publicering.json`` (``manifest_path``)."""


def manifest_path(folder: Path | str, stem: str | None = None) -> Path:
    """Where a publication record is written: ``folder/publicering.json`` for a run, and
    ``folder/<stem>.publicering.json`` beside a measures file named ``<stem>.<ext>``."""
    return Path(folder) / (f"{stem}.{MANIFEST_NAME}" if stem else MANIFEST_NAME)


def is_manifest(path: Path) -> bool:
    """Whether ``path`` is named as a publication record (``manifest_path``): the one rule
    ``audit_folder`` finds records by."""
    return path.name == MANIFEST_NAME or (
        path.name.endswith(f".{MANIFEST_NAME}") and len(path.name) > len(MANIFEST_NAME) + 1
    )


def manifest_text(pub: Publication) -> str:
    """The publication's record as ``write_manifest`` writes it (published values only, never a
    hidden one)."""
    record = manifest(pub.disclosure)
    record["perioder"] = pub.periods
    return json.dumps(record, ensure_ascii=False)


def write_manifest(pub: Publication, folder: Path | str, *, stem: str | None = None) -> Path:
    """Write the publication's record (``manifest_text``) to ``folder`` (named by ``manifest_path``)."""
    return atomic_write(manifest_path(folder, stem), manifest_text(pub))


def audit_folder(folder: Path | str) -> tuple[list[Path], list[str]]:
    """Audit every publication record under ``folder``: the records found, and one Swedish line per
    count too exposed (file, table, row, column and why)."""
    folder = Path(folder)
    if not folder.exists():
        raise UsageError(
            f"mappen {folder} finns inte; ange mappen som en körning publicerade, t.ex. reports/stockholm_2013."
        )
    records = sorted(p for p in folder.rglob(f"*{MANIFEST_NAME}") if is_manifest(p)) if folder.is_dir() else [folder]
    lines = []
    for path in records:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: publiceringsposten kan inte läsas ({exc}); kör om körningen.") from None
        try:
            found = audit_manifest(data)
        except (KeyError, TypeError, ValueError, IndexError) as exc:  # not a record, or one that contradicts itself
            raise DataError(
                f"{path}: publiceringsposten går inte ihop ({exc}): den är skadad eller ändrad efter körningen; "
                "kör om körningen som skrev den."
            ) from None
        lines += [f"{path}: {finding_line(f)}." for f in found]
    return records, lines


def finding_line(finding: Finding) -> str:
    """One finding of the audit in Swedish: table, row, column (count and period) and why."""
    group = ", ".join(f"{k} {v}" for k, v in finding.key.dims) or "hela studien"
    where = finding.where or "okänd"
    return f"tabell {where}, rad {group}, kolumn {finding.key.count} ({finding.key.period}): {finding.text}"
