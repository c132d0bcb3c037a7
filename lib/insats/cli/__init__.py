"""The ``insats`` command: parses arguments, calls the library, prints the outcome in Swedish.

This package (``insats.cli``) is the only place that prints or exits: ``arguments`` (argument
types, the Swedish parser), ``commands`` (one function per command), and here the parser and
``main``. Library code raises ``insats.errors.InsatsError``; ``main`` catches it once, prints its Swedish message and returns its exit code (the table is in
``insats.errors`` and the README). Anything else is a bug and is reported as one, without a
traceback unless ``INSATS_DEBUG=1``.

Each command imports the library modules it needs when it runs, so that ``insats --help`` and the
light commands do not pay for pandas, Altair and Jupyter: a deliberate exception to the package's
rule of module-level imports.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from insats import __version__
from insats.cli.arguments import SwedishArgumentParser, min_cell, month, non_negative_int, port, positive_int, safe_text
from insats.cli.commands import (
    _cmd_audit,
    _cmd_generate,
    _cmd_import,
    _cmd_kolada_fetch,
    _cmd_measures,
    _cmd_new_study,
    _cmd_pdf,
    _cmd_pseudonymise,
    _cmd_run,
    _cmd_serve,
    _cmd_survey_read,
    _cmd_survey_template,
    _cmd_validate,
)
from insats.dashboards.defaults import (  # no imports: the defaults shown by insats serve --help
    DEFAULT_IDLE_MINUTES,
    DEFAULT_LEFT_TIMEOUT,
    DEFAULT_MAX_VIEWERS,
    DEFAULT_POOL_SIZE,
)
from insats.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, InsatsError, os_reason


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
    p.add_argument(
        "kind",
        choices=["stockholm", "sundbyberg", "kommuner"],
        help="vilken studie; kommuner = flera påhittade kommuner av olika storlek (med --count)",
    )
    p.add_argument("--out", required=True, type=Path, help="mapp att skriva till")
    p.add_argument("--seed", type=int, default=1, help="slumpfrö (samma frö ger samma data)")
    p.add_argument(
        "--persons",
        type=positive_int,
        default=None,
        help="antal vuxna biståndsmottagare (för kommuner: medianen, standard 1500)",
    )
    p.add_argument("--count", type=positive_int, default=None, metavar="N", help="antal kommuner (bara för kommuner)")
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
    p.add_argument(
        "--skyddsniva",
        type=positive_int,
        default=None,
        metavar="N",
        help="hur brett intervallet för ett dolt antal minst ska vara (heltal ≥ --min-cell; standard: --min-cell)",
    )
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
        "(kartläggning som Stockholm 2013, eller utvärdering som Sundbyberg 2016 när studie.json anger ett "
        "reform_datum), med studiemappen och studiens period ur data. En befintlig fil skrivs aldrig över.",
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
    return (
        f"Fel: filen eller mappen{where} kunde inte läsas eller skrivas ({os_reason(exc)}). "
        "Kontrollera sökvägen och behörigheten."
    )


def run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; every error a user can cause becomes a Swedish message and an exit code."""
    try:
        return func(args)
    except InsatsError as exc:
        text = str(exc) if str(exc).startswith(("Fel", "Kontroll av")) else f"Fel: {exc}"
        print(safe_text(text), file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(safe_text(_describe_os_error(exc)), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nAvbrutet.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a bug, said plainly
        if os.environ.get("INSATS_DEBUG"):
            traceback.print_exc()
        # the text of an unexpected error may quote a value from the data: never a personnummer
        print(
            safe_text(f"Internt fel i insats ({type(exc).__name__}): {exc}")
            + "\nDet här är ett fel i programmet, inte i dina data. "
            "Kör igen med INSATS_DEBUG=1 för detaljer och rapportera felet till projektet.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    return run(args.func, args)


def program() -> NoReturn:
    """The ``insats`` program (its console script and ``python -m insats.cli``): ``main`` with the
    process's arguments, then the process ends with its exit code.

    Before it ends, the objects still alive are moved out of the garbage collector's reach
    (``gc.freeze``): the interpreter's last collection would otherwise walk every one of them (the
    coordinator of ``insats run`` holds pandas, Jupyter and the reports' notebooks) only to find
    nothing to free, since the process is ending anyway: 0.3–0.4 s after a run of the 14 Stockholm
    profiles, 0.07 s with it. Exit handlers, the wait for running threads, the flushing of output
    and the closing of files still happen as before."""
    code = main()
    gc.freeze()
    sys.exit(code)
