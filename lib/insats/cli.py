"""The ``insats`` command: parses arguments, calls the library, prints the outcome in Swedish.

This is the only module that prints or exits. Library code raises ``insats.errors.InsatsError``;
``main`` catches it once, prints its Swedish message and returns its exit code (the table is in
``insats.errors`` and the README). Anything else is a bug and is reported as one, without a
traceback unless ``INSATS_DEBUG=1``.

Each command imports the library modules it needs when it runs, so that ``insats --help`` and the
light commands do not pay for pandas, Altair and Jupyter: a deliberate exception to the package's
rule of module-level imports.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from tqdm import tqdm

from insats import __version__
from insats.dashboards.serve import (  # light (standard library only): the defaults shown by insats serve --help
    DEFAULT_IDLE_MINUTES,
    DEFAULT_LEFT_TIMEOUT,
    DEFAULT_MAX_VIEWERS,
    DEFAULT_POOL_SIZE,
)
from insats.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, InsatsError, UsageError, printable

log = logging.getLogger("insats")

MEASURE_SUFFIXES = (".csv", ".xlsx", ".json")


# --------------------------------------------------------------------------- argument types
def month(text: str) -> str:
    """``ÅÅÅÅ-MM`` with a real month (an argparse type)."""
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", text)
    if not m or not 1 <= int(m.group(2)) <= 12 or not 1900 <= int(m.group(1)) <= 2200:
        raise argparse.ArgumentTypeError(f"{text!r} är ingen månad; skriv ÅÅÅÅ-MM, t.ex. 2015-01")
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"


def min_cell(text: str) -> int:
    """The smallest count shown: a whole number of at least 1 (an argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} är inget heltal; skriv t.ex. 5") from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"{value} är för litet; minsta cell måste vara minst 1 (1 stänger av röjandekontrollen, "
            "bara för intern kvalitetskontroll)"
        )
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} är inget heltal") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} måste vara minst 1")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} är inget heltal") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} får inte vara negativt")
    return value


def port(text: str) -> int:
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} är ingen port; välj 1–65535, t.ex. 8866")
    return value


# --------------------------------------------------------------------------- Swedish argparse
_ARGPARSE_SV: list[tuple[str, str]] = [
    (r"the following arguments are required: (.*)", r"följande argument saknas: \1"),
    (r"argument (.*?): invalid choice: (.*?) \(choose from (.*)\)", r"argumentet \1: ogiltigt val \2 (välj bland \3)"),
    (r"argument (.*?): invalid (\w+) value: (.*)", r"argumentet \1: ogiltigt värde \3"),
    (r"argument (.*?): expected one argument", r"argumentet \1 behöver ett värde"),
    (r"argument (.*?): expected at least one argument", r"argumentet \1 behöver minst ett värde"),
    (r"argument (.*?): not allowed with argument (.*)", r"argumentet \1 kan inte användas tillsammans med \2"),
    (r"argument (.*?): (.*)", r"argumentet \1: \2"),
    (r"unrecognized arguments: (.*)", r"okända argument: \1"),
    (r"one of the arguments (.*) is required", r"ett av argumenten \1 behövs"),
]


class SwedishArgumentParser(argparse.ArgumentParser):
    """argparse with Swedish error messages, help headings and exit code 2."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "argument"
        self._optionals.title = "flaggor"
        self.add_argument("-h", "--help", action="help", help="visa den här hjälpen och avsluta")

    def format_usage(self) -> str:
        return super().format_usage().replace("usage:", "användning:", 1)

    def format_help(self) -> str:
        return super().format_help().replace("usage:", "användning:", 1)

    def error(self, message: str) -> NoReturn:
        for pattern, repl in _ARGPARSE_SV:
            if re.fullmatch(pattern, message):
                message = re.sub(pattern, repl, message)
                break
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"Fel: {message}\nSe {self.prog} --help.\n")


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
    from insats.intake.synth import generate  # on use: --help stays fast

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
    from insats.analysis.measures import compute_measures, write_measures  # on use: --help stays fast
    from insats.data.load import load_study  # on use: --help stays fast
    from insats.reports.publication import study_publication  # on use: --help stays fast

    _check_suffix(args.out, MEASURE_SUFFIXES)
    study = load_study(args.dir)
    if args.start is not None and args.end is not None and args.end < args.start:
        raise UsageError(f"Perioden slutar ({args.end}) före sin början ({args.start}).")
    _check_period(study, args.start, args.end)
    if args.min_cell == 1:  # internal quality check: any period, nothing hidden, never published
        result = compute_measures(study, start=args.start, end=args.end, min_cell=1)
        print("Obs: --min-cell 1 ger en intern fil utan röjandekontroll. Den får inte publiceras.", file=sys.stderr)
    else:  # only publication periods, protected together with everything else the study publishes
        result = study_publication(study, min_cell=args.min_cell).result(args.start, args.end)
    for note in result.skipped:
        print(printable(f"Utelämnat: {note}"), file=sys.stderr)
    write_measures(result, args.out)
    print(printable(f"{len(result.table)} rader skrivna till {args.out}"))
    return EXIT_OK


def _cmd_audit(args: argparse.Namespace) -> int:
    from insats.reports.publication import audit_folder  # on use: --help stays fast

    records, lines = audit_folder(args.folder)
    if not records:
        print(
            f"Fel: ingen publiceringspost (publicering.json) under {args.folder}; granska en mapp som "
            "insats run skrivit.",
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
    from insats.runner.batch import run_batch  # on use: --help stays fast
    from insats.runner.config import load_params  # on use: --help stays fast
    from insats.runner.tasks import FEL, OK, SKIPPED, format_seconds  # on use: --help stays fast

    config = load_params(args.params)
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
        f"{result.count(SKIPPED)} överhoppade. Index: {result.index}"
    )
    if result.failed:
        print(f"Misslyckade rapporter: {', '.join(result.failed)}", file=sys.stderr)
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
def build_parser() -> argparse.ArgumentParser:
    parser = SwedishArgumentParser(
        prog="insats",
        description="Utvärdera arbetsmarknadsinsatser för personer med ekonomiskt bistånd.",
        epilog="Slutkoder: 0 klart, 1 problem i data, 2 fel i kommando eller parameterfil, "
        "3 nätverk/port/program saknas, 4 internt fel i insats.",
    )
    parser.add_argument("--version", action="version", version=f"insats {__version__}", help="visa versionen")
    sub = parser.add_subparsers(dest="command", required=True, metavar="KOMMANDO", parser_class=SwedishArgumentParser)

    p = sub.add_parser("generate", help="skapa syntetiska exempeldata")
    p.add_argument("kind", choices=["stockholm", "sundbyberg"], help="vilken studie")
    p.add_argument("--out", required=True, type=Path, help="mapp att skriva till")
    p.add_argument("--seed", type=int, default=1, help="slumpfrö (samma frö ger samma data)")
    p.add_argument("--persons", type=positive_int, default=None, help="antal vuxna biståndsmottagare")
    p.add_argument("--format", choices=["csv", "parquet"], default="csv", help="filformat (standard csv)")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("validate", help="kontrollera en studiemapp mot datakontraktet")
    p.add_argument("dir", type=Path, help="studiemapp")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("measures", help="beräkna alla mått och skriv dem i långt format")
    p.add_argument("dir", type=Path, help="studiemapp")
    p.add_argument("--out", required=True, type=Path, help="fil: .csv, .xlsx eller .json")
    p.add_argument("--from", dest="start", type=month, default=None, metavar="ÅÅÅÅ-MM", help="periodens första månad")
    p.add_argument("--to", dest="end", type=month, default=None, metavar="ÅÅÅÅ-MM", help="periodens sista månad")
    p.add_argument("--min-cell", type=min_cell, default=5, help="minsta redovisade antal (1 = ingen röjandekontroll)")
    p.set_defaults(func=_cmd_measures)

    p = sub.add_parser("audit", help="granska röjandeskyddet i det en körning publicerat")
    p.add_argument("folder", type=Path, metavar="MAPP", help="mappen en körning skrev, t.ex. reports/stockholm_2013")
    p.set_defaults(func=_cmd_audit)

    p = sub.add_parser("pdf", help="skriv rapportsidor som PDF (A4, för nämndens handlingar)")
    p.add_argument("pages", nargs="+", type=Path, metavar="RAPPORT.html", help="rapportsidor eller mappar med sådana")
    p.add_argument("--out", type=Path, default=None, metavar="FIL.pdf", help="PDF-fil (standard: bredvid sidan)")
    p.set_defaults(func=_cmd_pdf)

    p = sub.add_parser("kolada", help="hämta nyckeltal från Kolada")
    ksub = p.add_subparsers(
        dest="kolada_command", required=True, metavar="KOMMANDO", parser_class=SwedishArgumentParser
    )
    k = ksub.add_parser("fetch", help="hämta värden till en fil (och till den lokala cachen)")
    k.add_argument("--kpi", required=True, help="nyckeltal, kommaseparerade, t.ex. N31807,N31814")
    k.add_argument("--kommun", required=True, help="kommunkoder, kommaseparerade, t.ex. 0180,0183")
    k.add_argument("--years", required=True, help="år eller intervall, t.ex. 2013-2018")
    k.add_argument("--out", required=True, type=Path, help="fil: .csv, .xlsx eller .json")
    k.add_argument("--base-url", default=None, help="API:ets adress (för test eller spegel)")
    k.add_argument("--cache-dir", type=Path, default=None, help="cachemapp")
    k.add_argument("--offline", action="store_true", help="använd bara cachen")
    k.add_argument(
        "--max-age",
        type=float,
        default=None,
        metavar="DAGAR",
        help="hämta om värden äldre än så här många dagar (standard 7)",
    )
    k.set_defaults(func=_cmd_kolada_fetch)

    p = sub.add_parser("survey", help="kartläggningsenkät: skapa Excelmallar och läs in svaren")
    ssub = p.add_subparsers(
        dest="survey_command", required=True, metavar="KOMMANDO", parser_class=SwedishArgumentParser
    )
    t = ssub.add_parser("template", help="skriv en enkät (Excel) per område")
    g = t.add_mutually_exclusive_group(required=True)
    g.add_argument(
        "--areas",
        metavar="KOD=Namn,...",
        help="områden som KOD=Namn, kommaseparerade, t.ex. 01=Rinkeby-Kista,02=Spånga-Tensta",
    )
    g.add_argument("--areas-file", type=Path, metavar="FIL", help="fil med tabellen omraden (omrade_kod, omrade)")
    t.add_argument("--kommun", required=True, metavar="KOD", help="kommunkod med fyra siffror, t.ex. 0180")
    t.add_argument("--year", required=True, type=int, metavar="ÅR", help="året som enkäten gäller")
    t.add_argument("--out", required=True, type=Path, metavar="MAPP", help="mapp att skriva enkäterna till")
    t.set_defaults(func=_cmd_survey_template)
    r = ssub.add_parser("read", help="läs ifyllda enkäter till tabellerna insatser och medel")
    r.add_argument("files", nargs="+", type=Path, metavar="FIL", help="ifyllda enkäter (.xlsx)")
    r.add_argument("--out", required=True, type=Path, metavar="MAPP", help="studiemapp att skriva till")
    r.add_argument(
        "--areas-file",
        type=Path,
        default=None,
        metavar="FIL",
        help="fil med tabellen omraden att skriva med (omraden.csv)",
    )
    r.set_defaults(func=_cmd_survey_read)

    p = sub.add_parser(
        "pseudonymise",
        help="ersätt person- och hushållsidentiteter (och personnummer) med nyckelhashar",
        description="Skriver en kopia av studiemappen där person_id, hushall_id och alla personnummer "
        "ersatts med pseudonymer (HMAC-SHA-256 med en hemlig nyckel). Allt annat är oförändrat.",
    )
    p.add_argument("in_dir", type=Path, metavar="IN_MAPP", help="studiemapp med identiteter")
    p.add_argument("out_dir", type=Path, metavar="UT_MAPP", help="ny mapp för den pseudonymiserade kopian")
    p.add_argument(
        "--key-file",
        required=True,
        type=Path,
        metavar="FIL",
        help="nyckelfil (skapas om den saknas); förvara utanför studiemappen och git",
    )
    p.add_argument("--overwrite", action="store_true", help="ersätt en befintlig utmapp")
    p.set_defaults(func=_cmd_pseudonymise)

    p = sub.add_parser("import", help="döp om kolumnerna i en export från verksamhetssystemet enligt en mappning")
    p.add_argument("in_dir", type=Path, metavar="EXPORTMAPP", help="mapp med exporterade filer")
    p.add_argument(
        "--mapping",
        type=Path,
        default=None,
        metavar="FIL",
        help="YAML-fil med kolumnmappningen (standard: kolumnmappning.yaml i exportmappen)",
    )
    p.add_argument("--out", required=True, type=Path, metavar="MAPP", help="studiemapp att skriva tabellerna till")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("run", help="kör studiens notebooks och en profil per område (parallellt, återupptagbart)")
    p.add_argument("params", type=Path, metavar="PARAMS.yaml", help="parameterfil med avsnittet korning:")
    p.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help="antal parallella arbetare (standard: antal kärnor)",
    )
    p.add_argument(
        "--only", nargs="+", default=None, metavar="OMRÅDE", help="kör bara dessa områden (omrade_kod) eller rapporter"
    )
    p.add_argument("--force", action="store_true", help="kör om även oförändrade rapporter")
    p.add_argument(
        "--scheduler", default=None, metavar="ADRESS", help="kör på ett Dask-kluster, t.ex. tcp://10.0.0.5:8786"
    )
    p.add_argument("--quiet", action="store_true", help="inga förloppsrader")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "serve",
        help="visa instrumentpanelerna i webbläsaren (Voila, utan internet)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Startar instrumentpanelerna på den här datorn. Varje instrumentpanel visar sin studie:\n"
        "Jämför områden och Områdesprofil studien i en parameterfil med notebooken kartlaggning,\n"
        "Utvärdering den med utvardering (standard: exempelstudierna i params/stockholm_2013.yaml\n"
        "och params/sundbyberg_2016.yaml). Studiemapparna kontrolleras innan något startar.\n\n"
        "En kärna (det som räknar åt en sida) stängs när sidan lämnas. När --max-viewers sidor är\n"
        "öppna får nästa tittare sidan ”Fullt – försök igen om en stund”.",
        epilog="exempel:\n"
        "  insats serve --data utvardering=data/exempel/sundbyberg\n"
        "  insats serve --params params/min_studie.yaml\n"
        "  insats serve --max-viewers 20 --pool-size 3",
    )
    p.add_argument("--port", type=port, default=8866, help="port (standard 8866)")
    p.add_argument(
        "--params",
        nargs="+",
        type=Path,
        default=None,
        metavar="FIL",
        help="parameterfiler med studierna (standard: params/stockholm_2013.yaml och params/sundbyberg_2016.yaml)",
    )
    p.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="[NAMN=]MAPP",
        help="studiemapp för alla instrumentpaneler (MAPP) eller för en (jamfor_omraden=MAPP, omradesprofil=MAPP, "
        "utvardering=MAPP); kan upprepas och går före --params",
    )
    p.add_argument("--no-browser", action="store_true", help="öppna ingen webbläsare")
    p.add_argument("--ip", default="127.0.0.1", help="adress att lyssna på (standard 127.0.0.1, bara den här datorn)")
    p.add_argument(
        "--max-viewers",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"högst så många öppna sidor samtidigt, ungefär 0,5 GB minne var (standard {DEFAULT_MAX_VIEWERS}, "
        "färre om datorns minne inte räcker till dem)",
    )
    p.add_argument(
        "--pool-size",
        action="append",
        default=[],
        metavar="[NAMN=]N",
        help=f"förstartade kärnor per instrumentpanel, fylls på i bakgrunden (standard {DEFAULT_POOL_SIZE}); så "
        "många tittare som kommer samtidigt får sidan direkt. NAMN=N för en av dem, t.ex. jamfor_omraden=10 "
        "när alla ska öppna den; ungefär 0,5 GB minne per kärna",
    )
    p.add_argument(
        "--left-timeout",
        type=positive_int,
        default=DEFAULT_LEFT_TIMEOUT,
        metavar="SEK",
        help="sekunder en kärna finns kvar när sidan försvunnit utan att säga till, t.ex. vid tappat nät "
        f"(standard {DEFAULT_LEFT_TIMEOUT})",
    )
    p.add_argument(
        "--idle-timeout",
        type=non_negative_int,
        default=DEFAULT_IDLE_MINUTES,
        metavar="MIN",
        help=f"minuter en öppen men oanvänd sida behåller sin kärna; 0 = ingen gräns (standard {DEFAULT_IDLE_MINUTES})",
    )
    p.add_argument("--no-preheat", action="store_true", help="starta inga kärnor i förväg")
    p.add_argument("--dashboards", type=Path, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser(
        "new-study",
        help="börja en ny studie: skriv params/NAMN.yaml för en studiemapp",
        description="Skriver params/NAMN.yaml, en kopia av det exempel som liknar studien mest "
        "(kartläggning som Stockholm 2013, eller utvärdering som Sundbyberg 2016 när studien har tabellen "
        "bedomningar), med studiemappen och studiens period ur data. En befintlig fil skrivs aldrig över.",
    )
    p.add_argument("name", metavar="NAMN", help="studiens namn: bokstäver a–z, siffror, _ och -, t.ex. solna_2024")
    p.add_argument("--data", required=True, type=Path, metavar="MAPP", help="studiemappen")
    p.add_argument(
        "--params-dir",
        type=Path,
        default=None,
        metavar="MAPP",
        help="mapp att skriva parameterfilen i (standard: params/ i projektet)",
    )
    p.set_defaults(func=_cmd_new_study)
    return parser


# --------------------------------------------------------------------------- main
def _describe_os_error(exc: OSError) -> str:
    where = f" {exc.filename}" if exc.filename else ""
    reason = exc.strerror or str(exc)
    return printable(
        f"Fel: filen eller mappen{where} kunde inte läsas eller skrivas ({reason}). Kontrollera sökvägen och behörigheten."
    )


def run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; every error a user can cause becomes a Swedish message and an exit code."""
    try:
        return func(args)
    except InsatsError as exc:
        print(f"Fel: {exc}" if not str(exc).startswith(("Fel", "Kontroll av")) else str(exc), file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(_describe_os_error(exc), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nAvbrutet.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a bug, said plainly
        if os.environ.get("INSATS_DEBUG"):
            traceback.print_exc()
        # imported here, on the error path only: the text of an unexpected error may quote a value
        # from the data, and a personnummer must not be printed even then
        from insats.data.personnummer import redact

        print(
            printable(redact(f"Internt fel i insats ({type(exc).__name__}): {exc}"))
            + "\nDet här är ett fel i programmet, inte i dina data. "
            "Kör igen med INSATS_DEBUG=1 för detaljer och rapportera felet till projektet.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    return run(args.func, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
