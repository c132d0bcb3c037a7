"""The data contract: tables, columns, types and code lists of the design (``docs/design.md``), in one place.

Loaders, validation, measures, charts and the survey template all read this module; nothing else
defines a column name, a code or a Swedish label. Column names are Swedish snake_case in ASCII;
labels shown to users are proper Swedish.

Column kinds (``Column.kind``) and how a loaded (typed) table stores them:

=========== ====================================================== ==========================
kind        accepted input                                          pandas dtype after loading
=========== ====================================================== ==========================
``id``      any non-empty text (numbers are read as text)           ``string``
``text``    any text                                                ``string``
``int``     whole number, spaces as thousands separators            ``Int64``
``float``   number, decimal comma or point, spaces as separators    ``float64``
``bool``    Ja/Nej, 1/0, x/blank, sant/falskt, true/false           ``boolean``
``date``    YYYY-MM-DD (or an Excel date cell)                       ``datetime64[ns]``
``month``   YYYY-MM (also YYYYMM or a date in that month)           ``datetime64[ns]``, day 1
``code``    canonical code, or its Swedish label, any case          ``category`` (all codes)
``codes``   ``;``-separated codes or labels                         ``string`` (canonical, ``;``)
``kommun``  4-digit municipality code (leading zero restored)       ``string``
=========== ====================================================== ==========================
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

CENTRAL = "CENTRAL"
"""``omrade_kod`` of an intervention or spending line that serves every area (city-wide)."""

ALLA = "ALLA"
"""``omrade_kod`` used in measure output for the whole study."""

# --------------------------------------------------------------------------- code lists
# code -> Swedish display label. Order is the display order.
CODE_LISTS: dict[str, dict[str, str]] = {
    "kategori": {
        "arbetstraning": "Arbetsträning",
        "jobbsok_coachning": "Jobbsökning och coachning",
        "kurs": "Kurs",
        "matchning": "Matchning",
        "praktik_offentlig": "Praktik, offentlig sektor",
        "praktik_privat": "Praktik, privat sektor",
        "vagledning": "Vägledning",
        "kommunal_anstallning": "Kommunal anställning",
        "feriejobb": "Feriejobb",
        "ovrigt": "Övrigt",
    },
    "regi": {
        "egen_omrade": "Egen regi, området",
        "egen_central": "Egen regi, central (jobbtorg)",
        "annan_kommunal": "Annan kommunal verksamhet",
        "upphandlad": "Upphandlad",
        "lov": "LOV-utförare",
        "ideell": "Idéburen (IOP)",
        "arbetsformedlingen": "Med Arbetsförmedlingen",
    },
    "malgrupp": {
        "unga_18_24": "Unga 18–24 år",
        "vuxna_25_plus": "Vuxna 25 år och äldre",
        "nyanlanda": "Nyanlända",
        "langt_fran": "Långt från arbetsmarknaden",
        "nara": "Nära arbetsmarknaden",
        "alla": "Alla",
    },
    "kon": {"K": "Kvinna", "M": "Man"},
    "utbildning": {
        "forgymnasial": "Förgymnasial",
        "gymnasial": "Gymnasial",
        "eftergymnasial": "Eftergymnasial",
        "okand": "Okänd",
    },
    "forsorjningshinder": {
        "arbetslos_ingen_ersattning": "Arbetslös, ingen ersättning",
        "arbetslos_otillracklig": "Arbetslös, otillräcklig ersättning",
        "arbetslos_vantar": "Arbetslös, väntar på ersättning",
        "arbetslos_etablering": "Arbetslös, etableringsersättning",
        "sjukskriven": "Sjukskriven",
        "sjuk_aktivitetsersattning": "Sjuk- eller aktivitetsersättning",
        "sociala_skal": "Sociala skäl",
        "foraldraledig": "Föräldraledig",
        "arbetar_otillracklig_inkomst": "Arbetar, otillräcklig inkomst",
        "studerande": "Studerande",
        "ovrigt": "Övrigt",
    },
    "hindergrupp": {
        "arbetsloshet": "Arbetslöshet",
        "ohalsa": "Ohälsa",
        "sociala_skal": "Sociala skäl",
        "ovrigt": "Övrigt",
    },
    "avslut": {
        "arbete": "Arbete",
        "studier": "Studier",
        "annan_myndighet": "Till annan myndighet",
        "slutford": "Slutförd",
        "avbrott": "Avbrott",
        "ovrigt": "Övrigt",
    },
    "avslutsorsak": {
        "arbete": "Arbete",
        "studier": "Studier",
        "annan_ersattning": "Annan ersättning",
        "flyttat": "Flyttat",
        "okand": "Okänd",
        "ovrigt": "Övrigt",
    },
    "arbetsmarknadsavstand": {
        "nara": "Nära arbetsmarknaden",
        "mellan": "Mellan",
        "langt": "Långt från arbetsmarknaden",
    },
    "resultat": {
        "hel": "Hel arbetsförmåga",
        "delvis": "Delvis arbetsförmåga",
        "ingen": "Ingen arbetsförmåga",
        "oklar": "Oklar",
    },
}
CODE_LISTS["kategori_medel"] = {**CODE_LISTS["kategori"], "administration": "Administration"}

# Further spellings seen in municipal exports, folded (see ``fold``) -> canonical code.
ALIASES: dict[str, dict[str, str]] = {
    "kon": {"kvinna": "K", "kvinnor": "K", "k": "K", "man": "M", "m": "M"},
    "kategori": {
        "jobbsok": "jobbsok_coachning",
        "coachning": "jobbsok_coachning",
        "jobbsokning_och_coachning": "jobbsok_coachning",
        "jobbsokning": "jobbsok_coachning",
        "praktik_offentlig_sektor": "praktik_offentlig",
        "praktik_privat_sektor": "praktik_privat",
        "feriearbete": "feriejobb",
        "feriearbeten": "feriejobb",
        "sommarjobb": "feriejobb",
        "utbildning": "kurs",
        "ovriga": "ovrigt",
    },
    "regi": {
        "egen_regi": "egen_omrade",
        "stadsdel": "egen_omrade",
        "stadsdelen": "egen_omrade",
        "jobbtorg": "egen_central",
        "central": "egen_central",
        "upphandling": "upphandlad",
        "lov_utforare": "lov",
        "ideburen": "ideell",
        "iop": "ideell",
        "af": "arbetsformedlingen",
    },
    "utbildning": {"okant": "okand", "uppgift_saknas": "okand", "eftergymnasial_utbildning": "eftergymnasial"},
    "arbetsmarknadsavstand": {
        "nara_arbetsmarknaden": "nara",
        "nara_arbetsmarknad": "nara",
        "kort": "nara",
        "kort_avstand": "nara",
        "narmast": "nara",
        "mellanlangt": "mellan",
        "mellanlangt_avstand": "mellan",
        "mellanliggande": "mellan",
        "medel": "mellan",
        "langt_fran": "langt",
        "langt_fran_arbetsmarknad": "langt",
        "langt_avstand": "langt",
        "langst_fran": "langt",
    },
    "resultat": {"hel_arbetsformaga": "hel", "delvis_arbetsformaga": "delvis", "ingen_arbetsformaga": "ingen"},
}
ALIASES["kategori_medel"] = {**ALIASES["kategori"], "admin": "administration"}

HINDERGRUPP: dict[str, str] = {
    "arbetslos_ingen_ersattning": "arbetsloshet",
    "arbetslos_otillracklig": "arbetsloshet",
    "arbetslos_vantar": "arbetsloshet",
    "arbetslos_etablering": "arbetsloshet",
    "sjukskriven": "ohalsa",
    "sjuk_aktivitetsersattning": "ohalsa",
    "sociala_skal": "sociala_skal",
    "foraldraledig": "ovrigt",
    "arbetar_otillracklig_inkomst": "ovrigt",
    "studerande": "ovrigt",
    "ovrigt": "ovrigt",
}
"""försörjningshinder code -> hinder group (the design's code list)."""


def fold(text: object) -> str:
    """Fold a spelling to ASCII snake_case: ``"Jobbsök/Coachning "`` -> ``"jobbsok_coachning"``.

    Used to match column headers and code spellings: lower case, å/ä -> a, ö -> o, é -> e, every
    run of other characters -> one ``_``, no leading or trailing ``_``.
    """
    return _fold_text(str(text))


@functools.lru_cache(maxsize=1 << 16)
def _fold_text(text: str) -> str:
    # cached: a column of unit or code spellings repeats a few hundred values over many rows
    text = unicodedata.normalize("NFKD", text.strip().lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _build_lookup(list_name: str) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for code, lab in CODE_LISTS[list_name].items():
        lookup[fold(code)] = code
        lookup[fold(lab)] = code
    lookup.update(ALIASES.get(list_name, {}))
    return lookup


_LOOKUPS: dict[str, dict[str, str]] = {name: _build_lookup(name) for name in CODE_LISTS}


def normalise_code(list_name: str, value: object) -> str | None:
    """The canonical code for a spelling of it (code or Swedish label, any case), else None."""
    if value is None:
        return None
    return _LOOKUPS[list_name].get(fold(value))


def label(list_name: str, code: str) -> str:
    """Swedish display label of a code (the code itself when unknown, so nothing is lost)."""
    return CODE_LISTS[list_name].get(code, code)


def codes(list_name: str) -> list[str]:
    """The canonical codes of a code list, in display order."""
    return list(CODE_LISTS[list_name])


def code_dtype(list_name: str):
    """The categorical dtype a loaded table uses for a coded column."""

    import pandas as pd  # on use: the contract is read by light commands (insats serve --help, insats run's start)

    return pd.CategoricalDtype(categories=codes(list_name), ordered=False)


# --------------------------------------------------------------------------- tables
KINDS = ("id", "text", "int", "float", "bool", "date", "month", "code", "codes", "kommun")

KIND_EXPECTED: dict[str, str] = {
    "id": "en identitet (text)",
    "text": "text",
    "int": "ett heltal",
    "float": "ett tal (decimalkomma eller decimalpunkt)",
    "bool": "Ja eller Nej (även 1/0 eller x)",
    "date": "ett datum ÅÅÅÅ-MM-DD",
    "month": "en månad ÅÅÅÅ-MM",
    "code": "en kod ur kodlistan",
    "codes": "koder ur kodlistan, åtskilda med ;",
    "kommun": "en kommunkod med fyra siffror, t.ex. 0180",
}
"""What each kind expects, in the Swedish of validation messages."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    label: str
    required: bool = False
    code_list: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r} for {self.name}")
        if (self.kind in ("code", "codes")) != (self.code_list is not None):
            raise ValueError(f"column {self.name}: code_list goes with kind code/codes")

    @property
    def dtype(self):
        """pandas dtype of this column in a loaded table."""
        return {
            "id": "string",
            "text": "string",
            "int": "Int64",
            "float": "float64",
            "bool": "boolean",
            "date": "datetime64[ns]",
            "month": "datetime64[ns]",
            "codes": "string",
            "kommun": "string",
        }.get(self.kind) or code_dtype(self.code_list)


@dataclass(frozen=True)
class Table:
    name: str
    label: str
    row: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    references: tuple[tuple[str, str, str], ...] = field(default=())
    """(column, table, column it must exist in)."""

    def __getitem__(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    def __contains__(self, name: object) -> bool:
        return any(col.name == name for col in self.columns)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _c(name, kind, label, required=False, code_list=None, description=""):
    return Column(name, kind, label, required, code_list, description)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "omraden",
            "Områden",
            "område och år",
            (
                _c("omrade_kod", "id", "Områdeskod", True),
                _c("omrade", "text", "Område", True),
                _c("kommun_kod", "kommun", "Kommunkod", True),
                _c("kommun", "text", "Kommun"),
                _c("ar", "int", "År", True),
                _c("folkmangd", "int", "Folkmängd", True),
                _c("folkmangd_18_64", "int", "Folkmängd 18–64 år"),
            ),
            key=("omrade_kod", "ar"),
        ),
        Table(
            "insatser",
            "Insatser",
            "insats som erbjuds i ett område",
            (
                _c("insats_id", "id", "Insats-id", True),
                _c("omrade_kod", "id", "Områdeskod", True, description="eller CENTRAL för hela kommunen"),
                _c("namn", "text", "Namn", True),
                _c("kategori", "code", "Kategori", True, "kategori"),
                _c("regi", "code", "Regi", True, "regi"),
                _c("utforare", "text", "Utförare"),
                _c("malgrupp", "codes", "Målgrupp", False, "malgrupp"),
                _c("platser", "int", "Platser", True),
                _c("narvarokrav", "bool", "Närvarokrav", True),
                _c("lov", "bool", "LOV"),
                _c("raknas_som_insats", "bool", "Räknas som insats", True),
                _c("kostnad_per_plats_manad", "float", "Kostnad per plats och månad (kr)"),
                _c("giltig_fran", "date", "Giltig från"),
                _c("giltig_till", "date", "Giltig till"),
            ),
            key=("insats_id",),
            references=(("omrade_kod", "omraden", "omrade_kod"),),
        ),
        Table(
            "personer",
            "Personer",
            "vuxen biståndsmottagare (pseudonymiserad)",
            (
                _c("person_id", "id", "Person-id", True),
                _c("hushall_id", "id", "Hushålls-id"),
                _c("omrade_kod", "id", "Områdeskod", True),
                _c("fodelsear", "int", "Födelseår", True),
                _c("kon", "code", "Kön", True, "kon"),
                _c("utrikes_fodd", "bool", "Utrikes född"),
                _c("utbildning", "code", "Utbildning", False, "utbildning"),
                _c("forsorjningshinder", "code", "Försörjningshinder", True, "forsorjningshinder"),
                _c(
                    "arbetsmarknadsavstand",
                    "code",
                    "Avstånd till arbetsmarknaden",
                    False,
                    "arbetsmarknadsavstand",
                    "handläggarens bedömning: nära, mellan eller långt från arbetsmarknaden",
                ),
            ),
            key=("person_id",),
            references=(("omrade_kod", "omraden", "omrade_kod"),),
        ),
        Table(
            "bistand",
            "Ekonomiskt bistånd",
            "person och månad med utbetalt bistånd",
            (
                _c("person_id", "id", "Person-id", True),
                _c("manad", "month", "Månad", True),
                _c("belopp", "float", "Belopp (kr)", True),
                _c("forsorjningshinder", "code", "Försörjningshinder", False, "forsorjningshinder"),
            ),
            key=("person_id", "manad"),
            references=(("person_id", "personer", "person_id"),),
        ),
        Table(
            "avslut",
            "Avslut av bistånd",
            "person som lämnar biståndet",
            (
                _c("person_id", "id", "Person-id", True),
                _c("manad", "month", "Månad", True),
                _c("avslutsorsak", "code", "Avslutsorsak", True, "avslutsorsak"),
            ),
            key=("person_id", "manad"),
            references=(("person_id", "personer", "person_id"),),
        ),
        Table(
            "deltaganden",
            "Deltaganden",
            "deltagande i en insats",
            (
                _c("deltagande_id", "id", "Deltagande-id", True),
                _c("person_id", "id", "Person-id", True),
                _c("insats_id", "id", "Insats-id", True),
                _c("erbjuden_datum", "date", "Erbjuden datum"),
                _c("start_datum", "date", "Startdatum", True),
                _c("slut_datum", "date", "Slutdatum", description="tomt = pågår"),
                _c("planerade_timmar", "float", "Planerade timmar"),
                _c("narvarotimmar", "float", "Närvarotimmar"),
                _c("avslut", "code", "Avslut", False, "avslut"),
                _c("vald_utforare", "bool", "Valde utförare själv"),
            ),
            key=("deltagande_id",),
            references=(("person_id", "personer", "person_id"), ("insats_id", "insatser", "insats_id")),
        ),
        Table(
            "bedomningar",
            "Bedömningar av arbetsförmåga",
            "bedömning av arbetsförmåga",
            (
                _c("person_id", "id", "Person-id", True),
                _c("ansokan_datum", "date", "Ansökningsdatum", True),
                _c("bedomning_datum", "date", "Bedömningsdatum"),
                _c("metod", "text", "Metod"),
                _c("resultat", "code", "Resultat", False, "resultat"),
                _c("enhet", "text", "Bedömande enhet", description="enheten som gör bedömningen"),
                _c(
                    "overlamnad_till",
                    "text",
                    "Överlämnad till",
                    description="enheten som personen lämnas över till efter bedömningen; tomt = ingen överlämning",
                ),
            ),
            key=("person_id", "ansokan_datum"),
            references=(("person_id", "personer", "person_id"),),
        ),
        Table(
            "medel",
            "Medel",
            "utgiftspost",
            (
                _c("omrade_kod", "id", "Områdeskod", True),
                _c("ar", "int", "År", True),
                _c("kategori", "code", "Kategori", True, "kategori_medel"),
                _c("belopp", "float", "Belopp (kr)", True),
                _c("raknas_som_insats", "bool", "Räknas som insats", True),
            ),
            references=(("omrade_kod", "omraden", "omrade_kod"),),
        ),
    )
}
"""The eight tables of the data contract, in the design's order."""

TABLE_ORDER: tuple[str, ...] = tuple(TABLES)

_HEADER_LOOKUPS: dict[str, dict[str, str]] = {
    t.name: {**{fold(c.label): c.name for c in t.columns}, **{c.name: c.name for c in t.columns}}
    for t in TABLES.values()
}

SURVEY_TABLES = ("omraden", "insatser", "medel")
"""The survey level: what a kartläggning can run on without individual data."""


def column_name(table: str, header: object) -> str:
    """The contract column a header means: its name or its Swedish label in any spelling
    (``"Område kod"``, ``"Områdeskod"`` and ``"OMRADE_KOD"`` all give ``omrade_kod``); headers the
    contract does not know come back folded."""
    key = fold(header)
    return _HEADER_LOOKUPS.get(table, {}).get(key, key)


def column_label(table: str, column: str) -> str:
    """Swedish display label of a column."""
    return TABLES[table][column].label


def empty_table(table: str):
    """An empty, correctly typed table (useful for tests and for absent optional columns)."""

    import pandas as pd  # on use: the contract is read by light commands (insats serve --help, insats run's start)

    spec = TABLES[table]
    return pd.DataFrame({c.name: pd.Series([], dtype=c.dtype) for c in spec.columns})
