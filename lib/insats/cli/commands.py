"""The ``insats`` commands: each parses nothing, calls the library and prints the outcome in Swedish.

Each command imports the library modules it needs when it runs, so that ``insats --help`` and the
light commands do not pay for pandas, Altair and Jupyter."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from insats.errors import EXIT_OK, UsageError, printable

if TYPE_CHECKING:
    from tqdm import tqdm

    from insats.analysis.publication import Publication

log = logging.getLogger("insats")

MEASURE_SUFFIXES = (".csv", ".xlsx", ".json")


class ProgressPrinter:
    """The view of an ``insats run``: one line per report on stdout and, on a terminal only, a
    progress bar on stderr (in logs from make or CI the lines are enough). Pass ``report`` as
    ``run_batch(on_report=...)``."""

    def __init__(self, *, enabled: bool = True):
        self.enabled = enabled
        self.bar: tqdm | None = None

    def __enter__(self) -> ProgressPrinter:
        return self

    def report(self, i: int, n: int, record: dict) -> None:
        from insats.runner.batch import progress_line  # on use: --help stays fast

        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm  # on use: the first kernel of insats run starts without waiting for it

            self.bar = tqdm(
                total=n,
                file=sys.stderr,
                unit="rapport",
                dynamic_ncols=True,
                leave=False,
                disable=not sys.stderr.isatty(),
            )
        self.bar.write(progress_line(i, n, record), file=sys.stdout)
        self.bar.update(1)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


# --------------------------------------------------------------------------- commands
def _cmd_generate(args: argparse.Namespace) -> int:
    from insats.intake.synth import generate, generate_municipalities  # on use: --help stays fast

    if args.kind == "kommuner":
        if args.count is None:
            raise UsageError("ange antalet kommuner med --count, t.ex. insats generate kommuner --count 20 --out DIR")
        folders = generate_municipalities(
            args.out, count=args.count, seed=args.seed, persons=args.persons, fmt=args.format
        )
        print(f"{len(folders)} syntetiska kommuner (frö {args.seed}) skrivna till {args.out}")
        return EXIT_OK
    if args.count is not None:
        raise UsageError("--count gäller bara insats generate kommuner.")
    out = generate(args.kind, args.out, seed=args.seed, persons=args.persons, fmt=args.format)
    print(f"Syntetiska exempeldata ({args.kind}, frö {args.seed}) skrivna till {out}")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    from insats.data.validate import validate_study  # on use: --help stays fast

    report = validate_study(args.dir)
    print(report.format())
    return 1 if report.errors else EXIT_OK


def _check_suffix(path: Path, allowed: Sequence[str]) -> None:
    if path.suffix.lower() not in allowed:
        raise UsageError(
            f"{path.name}: okänt filformat {path.suffix or '(inget)'}; välj {', '.join(allowed[:-1])} eller "
            f"{allowed[-1]}."
        )
    if path.is_dir():
        raise UsageError(f"{path} är en mapp; ange en fil, t.ex. {path / ('matt' + allowed[0])}.")


def _check_period(study: Any, start: str | None, end: str | None) -> None:
    """A period must hold at least one month of ``bistand`` (a period without data has no measures)."""
    from insats.analysis.measures.context import default_period  # on use: --help stays fast

    if "bistand" not in study or not len(study["bistand"]):
        return
    first, last = default_period(study)
    lo = first if start is None else max(first, _month_ts(start))
    hi = last if end is None else min(last, _month_ts(end))
    if lo > hi:
        asked = f"{start or first.strftime('%Y-%m')}–{end or last.strftime('%Y-%m')}"
        raise UsageError(
            f"Perioden {asked} har inga månader med bistånd i studien, som går från {first:%Y-%m} till {last:%Y-%m}; "
            "välj --from och --to inom den perioden."
        )


def _month_ts(text: str) -> Any:
    import pandas as pd  # on use: --help stays fast

    return pd.Timestamp(f"{text}-01")


def _cmd_measures(args: argparse.Namespace) -> int:
    from insats.analysis.disclosure import protection_problem  # on use: --help stays fast
    from insats.analysis.measures import compute_measures, write_measures  # on use: --help stays fast
    from insats.data.load import load_study  # on use: --help stays fast
    from insats.reports.common import area_names, provenance  # on use: --help stays fast
    from insats.reports.publication import is_manifest, study_publication, write_manifest  # on use: --help stays fast

    _check_suffix(args.out, MEASURE_SUFFIXES)
    if is_manifest(args.out):
        raise UsageError(
            f"{args.out.name} är namnet på en publiceringspost (som insats audit läser); välj ett annat filnamn."
        )
    problem = protection_problem(args.skyddsniva, args.min_cell)
    if problem:
        raise UsageError(f"--skyddsniva: {problem}.")
    study = load_study(args.dir)
    if args.start is not None and args.end is not None and args.end < args.start:
        raise UsageError(f"Perioden slutar ({args.end}) före sin början ({args.start}).")
    _check_period(study, args.start, args.end)
    pub: Publication | None = None
    if args.min_cell == 1:  # internal quality check: any period, nothing hidden, never published
        result = compute_measures(study, start=args.start, end=args.end, min_cell=1)
        print("Obs: --min-cell 1 ger en intern fil utan röjandekontroll. Den får inte publiceras.", file=sys.stderr)
    else:  # only publication periods, protected together with everything else the study publishes
        pub = study_publication(study, min_cell=args.min_cell, protection=args.skyddsniva)
        result = pub.result(args.start, args.end)
    for note in result.skipped:
        print(printable(f"Utelämnat: {note}"), file=sys.stderr)
    shown_params = {"data": str(args.dir), **result.params}
    if args.skyddsniva is not None:
        shown_params["skyddsniva"] = args.skyddsniva
    about = provenance(study, shown_params, full_hashes=True)
    write_measures(result, args.out, names=area_names(study.get("omraden")), about=about)
    print(printable(f"{len(result.table)} rader skrivna till {args.out}"))
    if pub is not None:  # the record insats audit checks, beside the file (never a hidden value)
        record = write_manifest(pub, args.out.parent, stem=args.out.stem)
        print(printable(f"Publiceringspost skriven till {record} (granska med insats audit {args.out.parent})"))
    return EXIT_OK


def _cmd_audit(args: argparse.Namespace) -> int:
    from insats.reports.publication import audit_folder  # on use: --help stays fast

    records, lines = audit_folder(args.folder)
    if not records:
        print(
            f"Fel: ingen publiceringspost (publicering.json eller <fil>.publicering.json) under {args.folder}; "
            "granska en mapp som insats run eller insats measures skrivit.",
            file=sys.stderr,
        )
        return 1
    for line in lines:
        print(line)
    if lines:
        print(
            f"{len(lines)} uppgifter är inte tillräckligt skyddade i {len(records)} publiceringspost(er).",
            file=sys.stderr,
        )
        return 1
    print(
        f"Granskat {len(records)} publiceringspost(er): ingen dold uppgift kan räknas fram, och inga små antal visas."
    )
    return EXIT_OK


def _report_pages(paths: Sequence[Path]) -> list[Path]:
    """The report pages named on the command line; a folder stands for its pages (not index.html)."""
    pages: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.glob("*.html") if p.name != "index.html" and not p.name.startswith("."))
            if not found:
                raise UsageError(f"{path}: mappen har inga rapportsidor (.html).")
            pages.extend(found)
        elif path.suffix.lower() in (".html", ".htm") and path.is_file():
            pages.append(path)
        elif not path.exists():
            raise UsageError(f"{path}: filen finns inte.")
        else:
            raise UsageError(f"{path}: ange en rapportsida (.html) eller en mapp med sådana.")
    return pages


def _cmd_pdf(args: argparse.Namespace) -> int:
    from insats.reports.pdf import PdfPrinter  # on use: Playwright loads only when printing

    pages = _report_pages(args.pages)
    if args.out is not None and len(pages) != 1:
        raise UsageError("--out går bara med en rapportsida; utan --out skrivs varje PDF bredvid sin sida.")
    with PdfPrinter() as printer:
        for page in pages:
            written = printer.print(page, args.out)
            print(f"Skrev {written}")
    return EXIT_OK


def _cmd_kolada_fetch(args: argparse.Namespace) -> int:
    from insats.intake import kolada  # on use: --help stays fast

    kpis = kolada.parse_ids(args.kpi, "nyckeltal")
    munis = kolada.parse_ids(args.kommun, "kommunkoder")
    years = kolada.parse_years(args.years)
    _check_suffix(args.out, MEASURE_SUFFIXES)
    options: dict[str, Any] = {} if args.max_age is None else {"max_age": dt.timedelta(days=float(args.max_age))}
    client = kolada.KoladaClient(args.base_url, cache_dir=args.cache_dir, offline=args.offline, **options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = client.values(kpis, munis, years)
    for w in caught:
        print(printable(f"Varning: {w.message}"), file=sys.stderr)
    kolada.write_table(df, args.out)
    print(printable(f"Kolada-värden skrivna till {args.out}"))
    print(printable(kolada.summary(df)))
    absent = sorted(set(munis) - set(df["kommun_kod"]))
    if absent:
        print(printable(f"Inga värden för kommunkoderna: {', '.join(absent)}"))
    return EXIT_OK


def _cmd_survey_template(args: argparse.Namespace) -> int:
    from insats.intake import survey  # on use: --help stays fast

    if args.areas_file:
        areas = survey.read_areas_file(args.areas_file, year=args.year)
    else:
        areas = survey.parse_areas(args.areas)
    for path in survey.write_templates(areas, args.out, kommun_kod=args.kommun, year=args.year):
        print(printable(f"Enkät skriven: {path}"))
    return EXIT_OK


def _cmd_survey_read(args: argparse.Namespace) -> int:
    from insats.data.validate import FEL  # on use: --help stays fast
    from insats.intake import survey  # on use: --help stays fast

    tables, problems = survey.read_surveys(args.files)
    for problem in problems:
        print(printable(problem), file=sys.stderr)
    errors = [p for p in problems if p.severity == FEL]
    if errors:
        print(f"{len(errors)} fel i enkätsvaren; inget skrevs. Rätta filerna och läs in dem igen.", file=sys.stderr)
        return 1
    paths = survey.write_survey_tables(tables, args.out, omraden=args.areas_file)
    n_i, n_m = len(tables["insatser"]), len(tables["medel"])
    print(
        printable(
            f"{n_i} insatser och {n_m} utgiftsposter skrivna till {args.out} ({', '.join(p.name for p in paths)})"
        )
    )
    return EXIT_OK


def _cmd_import(args: argparse.Namespace) -> int:
    from insats.intake.mapping import apply_mapping  # on use: --help stays fast

    result = apply_mapping(args.in_dir, args.mapping, args.out)
    print(printable(result.format()))
    print(printable(f"Tabellerna skrivna till {args.out}. Kontrollera dem med: insats validate {args.out}"))
    return EXIT_OK


def _cmd_pseudonymise(args: argparse.Namespace) -> int:
    from insats.intake.pseudonymise import pseudonymise  # on use: --help stays fast

    summary = pseudonymise(args.in_dir, args.out_dir, key_file=args.key_file, overwrite=args.overwrite)
    print(summary.format())
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from insats.runner.config import load_params  # on use: --help stays fast

    config = load_params(args.params)
    if args.scheduler is None:  # the first kernel starts while the rest of the runner loads
        from insats.runner.kernels import launch_for  # on use: --help stays fast

        launch_for(config)
    from insats.runner.batch import run_batch  # on use: --help stays fast
    from insats.runner.tasks import FEL, OK, SKIPPED, format_seconds  # on use: --help stays fast

    with ProgressPrinter(enabled=not args.quiet) as progress:
        result = run_batch(
            config,
            workers=args.workers,
            only=args.only,
            force=args.force,
            scheduler=args.scheduler,
            on_report=progress.report,
        )
    print(
        f"Klart på {format_seconds(result.seconds)}: {result.count(OK)} ok, {result.count(FEL)} fel, "
        f"{result.count(SKIPPED)} överhoppade. Framsida: {result.index}"
    )
    if result.failed:
        print(f"Misslyckade rapporter: {', '.join(result.failed)}", file=sys.stderr)
    for line in result.audit[:20]:
        print(printable(f"Granskning: {line}"), file=sys.stderr)
    if result.audit:
        print(
            f"Granskningen fann {len(result.audit)} uppgifter som inte är tillräckligt skyddade; "
            "publicera inte rapporterna förrän det är rättat (se körningsloggen).",
            file=sys.stderr,
        )
    return result.exit_code


def _cmd_serve(args: argparse.Namespace) -> int:
    from insats.dashboards.serve import (  # on use: --help stays fast
        StudySource,
        default_params_files,
        parse_data_option,
        plan_studies,
        pool_sizes,
        serve,
    )
    from insats.runner.config import load_params  # on use: --help stays fast

    bare_data = any(parse_data_option(text)[0] is None for text in args.data)
    if args.params:
        files = list(args.params)
    elif bare_data:
        files = []  # one folder for every dashboard: no params file needed
    else:
        files = default_params_files()
    sources = []
    for path in files:
        try:
            config = load_params(path)
        except UsageError as exc:
            hint = "" if args.params else " (exempelstudierna skapas med make data)"
            raise UsageError(f"{exc}{hint}") from None
        sources.append(
            StudySource(
                source=_display_path(config.path),
                notebooks=tuple(nb.stem for nb in config.notebooks),
                data_dir=config.data_dir,
                min_cell=config.parameters.get("min_cell"),
                skyddsniva=config.parameters.get("skyddsniva"),
            )
        )
    plan = plan_studies(sources, args.data)

    def announce(lines: list[str]) -> None:
        print("\n".join(lines), flush=True)

    return serve(
        plan=plan,
        port=args.port,
        ip=args.ip,
        pool_size=pool_sizes(args.pool_size),
        preheat=not args.no_preheat,
        max_viewers=args.max_viewers,
        left_timeout=args.left_timeout,
        idle_minutes=args.idle_timeout,
        dashboards=args.dashboards,
        open_browser=not args.no_browser,
        announce=announce,
    )


def _display_path(path: Path) -> str:
    """``path`` relative to the current folder when it is below it (shorter messages), else as is."""
    try:
        return str(Path(os.path.abspath(path)).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _cmd_new_study(args: argparse.Namespace) -> int:
    from insats.runner.newstudy import new_study  # on use: --help stays fast

    result = new_study(args.name, args.data, params_dir=args.params_dir)
    print(f"Parameterfil skriven: {_display_path(result.path)}")
    print(
        f"  kopierad från {_display_path(result.example)} ({result.kind}); period {result.start}–{result.end} ur data"
    )
    for note in result.notes:
        print(f"  Obs: {note}")
    params = _display_path(result.path)
    print("Nästa steg:")
    print(f"  1. insats validate {_display_path(result.data_dir)}   kontrollera studiens data")
    print(f"  2. insats run {params}   kör rapporterna (de hamnar i reports/{result.run_name}/)")
    print("  3. make lab   öppna notebooks/ i JupyterLab och arbeta vidare med studien")
    print(f"  Instrumentpanelerna med studien: insats serve --params {params}")
    return EXIT_OK


# --------------------------------------------------------------------------- the parser
