"""The ``insats`` command: parses arguments and calls the library, nothing more.

Messages for users are Swedish. Heavy modules are imported inside each command so that
``insats --help`` is quick.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_generate(args: argparse.Namespace) -> int:
    from insats.intake.synth import generate

    try:
        out = generate(args.kind, args.out, seed=args.seed, persons=args.persons, fmt=args.format)
    except (FileExistsError, ValueError) as exc:
        print(f"Fel: {exc}", file=sys.stderr)
        return 1
    print(f"Syntetiska exempeldata ({args.kind}, frö {args.seed}) skrivna till {out}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from insats.data.validate import validate_study

    report = validate_study(args.dir)
    print(report.format())
    return 1 if report.errors else 0


def _cmd_measures(args: argparse.Namespace) -> int:
    from insats.analysis.measures import compute_measures, write_measures
    from insats.data.load import StudyError, load_study

    try:
        study = load_study(args.dir)
    except StudyError as exc:
        print(exc, file=sys.stderr)
        return 1
    result = compute_measures(study, start=args.start, end=args.end, min_cell=args.min_cell)
    for note in result.skipped:
        print(f"Utelämnat: {note}", file=sys.stderr)
    write_measures(result, args.out)
    print(f"{len(result.table)} rader skrivna till {args.out}")
    return 0


def _cmd_kolada_fetch(args: argparse.Namespace) -> int:
    from insats.intake.kolada import fetch_command

    return fetch_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="insats",
        description="Utvärdera arbetsmarknadsinsatser för personer med ekonomiskt bistånd.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="KOMMANDO")

    p = sub.add_parser("generate", help="skapa syntetiska exempeldata")
    p.add_argument("kind", choices=["stockholm", "sundbyberg"], help="vilken studie")
    p.add_argument("--out", required=True, type=Path, help="mapp att skriva till")
    p.add_argument("--seed", type=int, default=1, help="slumpfrö (samma frö ger samma data)")
    p.add_argument("--persons", type=int, default=None, help="antal vuxna biståndsmottagare")
    p.add_argument("--format", choices=["csv", "parquet"], default="csv", help="filformat (standard csv)")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("validate", help="kontrollera en studiemapp mot datakontraktet")
    p.add_argument("dir", type=Path, help="studiemapp")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("measures", help="beräkna alla mått och skriv dem i långt format")
    p.add_argument("dir", type=Path, help="studiemapp")
    p.add_argument("--out", required=True, type=Path, help="fil: .csv, .xlsx eller .json")
    p.add_argument("--from", dest="start", default=None, metavar="ÅÅÅÅ-MM", help="periodens första månad")
    p.add_argument("--to", dest="end", default=None, metavar="ÅÅÅÅ-MM", help="periodens sista månad")
    p.add_argument("--min-cell", type=int, default=5, help="minsta redovisade antal (1 = ingen röjandekontroll)")
    p.set_defaults(func=_cmd_measures)

    p = sub.add_parser("kolada", help="hämta nyckeltal från Kolada")
    ksub = p.add_subparsers(dest="kolada_command", required=True, metavar="KOMMANDO")
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

    from insats.dashboards.serve import add_serve_parser
    from insats.intake.mapping import add_import_parser
    from insats.intake.pseudonymise import add_pseudonymise_parser
    from insats.intake.survey import add_survey_parser
    from insats.runner.batch import add_run_parser

    add_survey_parser(sub)
    add_pseudonymise_parser(sub)
    add_import_parser(sub)
    add_run_parser(sub)
    add_serve_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
