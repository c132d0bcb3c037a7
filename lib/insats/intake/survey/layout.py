"""The survey workbook's layout: sheet names, rows, prefilled columns and the texts of the instructions."""

from __future__ import annotations

SHEET_INFO = "Instruktioner"
SHEET_INSATSER = "Insatser"
SHEET_MEDEL = "Medel"
SHEET_CODES = "Koder"
SHEETS = {SHEET_INSATSER: "insatser", SHEET_MEDEL: "medel"}
"""Data sheet -> contract table."""

EXAMPLE_MARK = "EXEMPEL"
TEMPLATE_VERSION = "1"
JA, NEJ = "Ja", "Nej"

DATA_ROWS = 300
"""Rows (after the header) that carry drop-down lists and number/date validation."""
PREFILLED_INSATSER_ROWS = 100
PREFILLED_MEDEL_EXTRA_ROWS = 30

PREFILLED = {"insatser": ("omrade_kod",), "medel": ("omrade_kod", "ar", "kategori")}
"""Columns the template fills in; a row with nothing else filled in is an empty row."""

HELP: dict[str, dict[str, str]] = {
    "insatser": {
        "insats_id": "Lämna tomt så skapas ett id (områdeskod-löpnummer). Fyll i om ni har egna id:n.",
        "omrade_kod": "Förifylld med ert områdes kod. Skriv CENTRAL om insatsen gäller hela kommunen.",
        "namn": "Insatsens namn, som ni kallar den i verksamheten.",
        "kategori": "Typ av insats. Välj i listan (kategorierna följer SKR:s indelning i Kolada).",
        "regi": "Vem som driver insatsen. Välj i listan.",
        "utforare": "Namn på enheten, företaget eller organisationen som utför insatsen.",
        "malgrupp": "En eller flera målgrupper, åtskilda med semikolon (;). Skriv exakt som i listan nedan.",
        "platser": "Antal platser som insatsen har samtidigt (heltal).",
        "narvarokrav": "Ja om deltagarna har närvarokrav, dvs. frånvaro kan påverka biståndet.",
        "lov": "Ja om utföraren är godkänd enligt lagen om valfrihetssystem (LOV).",
        "raknas_som_insats": "Ja om ni räknar detta som en arbetsmarknadsinsats. Se frågan om feriejobb ovan.",
        "kostnad_per_plats_manad": "Ungefärlig kostnad i kronor per plats och månad.",
        "giltig_fran": "Datum (ÅÅÅÅ-MM-DD) då insatsen började erbjudas. Tomt = känt sedan länge.",
        "giltig_till": "Datum (ÅÅÅÅ-MM-DD) då insatsen upphörde. Tomt = pågår.",
    },
    "medel": {
        "omrade_kod": "Förifylld med ert områdes kod.",
        "ar": "Året som utgifterna avser (förifyllt, ändra vid behov).",
        "kategori": "Samma kategorier som för insatserna, plus Administration. Välj i listan.",
        "belopp": "Utgifter i kronor under året för kategorin. Lämna raden tom om ni inte har några.",
        "raknas_som_insats": "Ja om ni räknar utgiften som arbetsmarknadsinsats. Se frågan om feriejobb ovan.",
    },
}

FERIEJOBB_TEXT = (
    "Frågan om feriejobb: vissa områden räknar feriejobb (feriearbeten) för ungdomar som en "
    "arbetsmarknadsinsats, andra gör det inte. Ange alltid feriejobb med kategorin Feriejobb, "
    'och svara i kolumnen "Räknas som insats" Ja eller Nej efter hur ni själva redovisar dem. '
    "Då kan jämförelsen mellan områdena göras både med och utan feriejobb."
)

INSATS_TEXT = (
    "En arbetsmarknadsinsats är en aktivitet som ert område erbjuder "
    "personer med ekonomiskt bistånd för att de ska komma närmare arbete eller studier: t.ex. "
    "arbetsträning, praktik, jobbsökning och coachning, kurser, matchning mot arbete, vägledning "
    "eller en tidsbegränsad kommunal anställning. Ta med insatser som ni driver själva, som "
    "jobbtorget driver för er, som är upphandlade eller drivs tillsammans med Arbetsförmedlingen "
    "eller idéburna organisationer. Ange en rad per insats."
)
