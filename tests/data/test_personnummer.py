import numpy as np
import pandas as pd
import pytest

from insats.data.personnummer import (
    find_personnummer,
    has_personnummer,
    is_personnummer,
    redact,
    series_has_personnummer,
)

VALID = ["19121212-1212", "121212-1212", "1212121212", "191212121212", "121212+1212", "701063-2391", "19701063-2391"]
INVALID = [
    "19121212-1213",
    "121212-1213",
    "1234567890",
    "701063-2392",
    "121312-1212",
    "121200-1212",
    "2013-01-05",
    "12121212121",
    "P000123",
    "",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_numbers(text):
    assert is_personnummer(text)
    assert has_personnummer(f"se {text} i akten")


@pytest.mark.parametrize("text", INVALID)
def test_invalid_numbers(text):
    assert not is_personnummer(text)
    assert not has_personnummer(text)


def test_embedded_and_redacted():
    text = "ring 19121212-1212 eller 701063-2391, inte 1234567890"
    assert find_personnummer(text) == ["19121212-1212", "701063-2391"]
    out = redact(text)
    assert "1212" not in out and "2391" not in out and "1234567890" in out


def test_series_vectorised():
    s = pd.Series(["a", "se 19121212-1212", None, "1234567890", "x701063-2391y", "P1"], dtype="str")
    assert series_has_personnummer(s).tolist() == [False, True, False, False, True, False]
    obj = pd.Series([1212121212.0, 5.5, None, "121212-1212"], dtype=object)
    assert series_has_personnummer(obj).tolist() == [True, False, False, True]
    ints = pd.Series([1212121212, 5, 1234567890], index=[2, 3, 4])
    assert series_has_personnummer(ints).tolist() == [True, False, False]
    short = pd.Series(["P1", "P2"], dtype="str")
    assert not series_has_personnummer(short).any()


# --------------------------------------------------------------------------- the forms of issue 14
# 850315-1238 and 050315-1235 have valid check digits (made up, not real persons).
FORMS = [
    "850315-1238",
    "850315 1238",  # a space instead of the hyphen
    "850315  1238",
    "19850315 1238",  # twelve digits with a space
    "19850315-1238",
    "850315 - 1238",  # a hyphen with spaces around it
    "850315\u20131238",  # an en dash, as a word processor writes it
    "850315\u00a01238",  # a no-break space
    "\uff18\uff15\uff10\uff13\uff11\uff15\uff0d\uff11\uff12\uff13\uff18",  # full-width digits and hyphen
    "8503151238.0",  # a number column written as text
    "8.503151238e+09",  # the same in scientific notation
    "0503151235",
    "503151235",  # an Excel number that lost its leading zero
]


@pytest.mark.parametrize("text", FORMS)
def test_every_form_is_found_and_redacted(text):
    assert has_personnummer(text)
    assert redact(f"se {text} här") == "se [personnummer] här" or redact(text) == "[personnummer]"
    assert series_has_personnummer(pd.Series([text, "x"], dtype="string")).tolist() == [True, False]
    assert series_has_personnummer(pd.Series([text, "x"], dtype=object)).tolist() == [True, False]


@pytest.mark.parametrize("value", [8503151238, 8503151238.0, 198503151238, 503151235, 503151235.0])
def test_numbers(value):
    assert has_personnummer(value)
    for dtype in ("int64", "float64", object):
        s = pd.Series([value, 7], dtype=dtype)
        assert series_has_personnummer(s).tolist() == [True, False], dtype


@pytest.mark.parametrize(
    "text",
    [
        "0.8503151238",  # the decimals of a share
        "8503151238.5",  # a number with decimals
        "8.503151e+09",  # a float printed with too few digits: the number is gone
        "850230-1234",  # 30 February
        "851315-1238",  # month 13
        "5031512351",  # not a date
        "P0000001",
        "2015-01-31",
        "1 503151235",  # nine digits inside a text are not a lost zero
    ],
)
def test_not_a_personnummer(text):
    assert not has_personnummer(text), text


def test_lost_zero_can_be_turned_off_for_amounts():
    assert has_personnummer("503151235") and not has_personnummer("503151235", lost_zero=False)
    assert not series_has_personnummer(pd.Series([503151235]), lost_zero=False).any()
    assert has_personnummer("0503151235", lost_zero=False)  # ten digits are always checked


def test_categorical_bytes_and_nested_columns():
    cat = pd.Series(pd.Categorical(["ok", "850315 1238", None, "ok"]))
    assert series_has_personnummer(cat).tolist() == [False, True, False, False]
    raw = pd.Series([b"850315-1238", b"ok", None], dtype=object)
    assert series_has_personnummer(raw).tolist() == [True, False, False]
    nested = pd.Series([["a", "850315-1238"], ["b"]], dtype=object)
    assert series_has_personnummer(nested).tolist() == [True, False]


def test_samordningsnummer_and_leap_days():
    assert is_personnummer("701063-2391")  # day 03 + 60
    # 29 February exists in 2000 (a leap year) and not in 1900; without a century either may be meant
    ok_2000 = [f"000229-{n:03d}" for n in range(1000)]
    found = [t for t in ok_2000 for c in "0123456789" if has_personnummer(t + c)]
    assert len(found) == 1000  # one valid check digit per serial
    assert not any(has_personnummer(f"19000229{n:03d}{c}") for n in range(0, 1000, 7) for c in "0123456789")


# --------------------------------------------------------------------------- false positives
def _expected_rate() -> float:
    """The chance that ten random digits pass, counted over every month and day (an independent
    route: the calendar module, not the matcher)."""
    import calendar

    valid_dates = 0
    for yy in range(100):
        for month in range(1, 13):
            days = 29 if (month == 2 and yy % 4 == 0) else calendar.monthrange(2001, month)[1]
            valid_dates += 2 * days  # the day itself, and day + 60 (samordningsnummer)
    return valid_dates / 100 / 10_000 * 0.1  # YY any; MMDD one of 10 000; check digit one of ten


def test_false_positive_rate_on_random_ten_digit_ids():
    rng = np.random.default_rng(20240514)
    n = 100_000
    ids = pd.Series([f"{x:010d}" for x in rng.integers(0, 10**10, n)], dtype="string")
    rate = series_has_personnummer(ids).mean()
    expected = _expected_rate()
    se = (expected * (1 - expected) / n) ** 0.5
    assert abs(rate - expected) < 4 * se, (rate, expected)
    assert 0.006 < expected < 0.008  # about 0.7 %: 11 of 1 500 on average (the issue saw 8)


def test_ids_that_cannot_be_dates_are_never_taken_for_personnummer():
    rng = np.random.default_rng(7)
    # data/README.md's advice: a letter prefix and at most eight digits, or a third digit of 2-9
    short = pd.Series([f"K{x:08d}" for x in rng.integers(0, 10**8, 20_000)], dtype="string")
    assert not series_has_personnummer(short).any()
    no_month = pd.Series(
        [
            f"{a:02d}{b}{c:07d}"
            for a, b, c in zip(
                rng.integers(0, 100, 20_000), rng.integers(2, 10, 20_000), rng.integers(0, 10**7, 20_000)
            )
        ],
        dtype="string",
    )
    assert not series_has_personnummer(no_month).any()


# --------------------------------------------------------------------------- issue 14: more written forms
MORE_FORMS = [
    "850315.1238",  # a full stop between date and number
    "850315/1238",
    "85-03-15-1238",  # the date written with hyphens
    "1985-03-15-1238",
    "19850315.1238",
    "850315\u00ad1238",  # a soft hyphen (invisible in most programs)
    "850315\u200d1238",  # a zero-width joiner
    "850315\u200c1238",  # a zero-width non-joiner
    "850315\u20601238",  # a word joiner
    "850315\ufeff1238",  # a zero-width no-break space
    "\uff18\uff15-\uff10\uff13-\uff11\uff15-\uff11\uff12\uff13\uff18",  # full-width, date with hyphens
]


@pytest.mark.parametrize("text", MORE_FORMS)
def test_more_written_forms_are_found_and_redacted(text):
    assert has_personnummer(text)
    assert redact(f"se {text} här") == "se [personnummer] här"
    assert series_has_personnummer(pd.Series([text, "x"], dtype="string")).tolist() == [True, False]
    assert series_has_personnummer(pd.Series([text, "x"], dtype=object)).tolist() == [True, False]
    wrong = text[:-1] + ("9" if text[-1] != "9" else "8")  # the check digit still decides
    assert not has_personnummer(wrong), wrong


@pytest.mark.parametrize(
    "text",
    [
        "0.850315.1238",  # inside a longer dotted number
        "850315.12385",  # five decimals: a number, not a person
        "2016-01-15 1238",  # a date and a number (a log line), not one personnummer
        "2016-01-15",
        "85-13-15-1238",  # month 13
        "1985-02-30-1238",  # 30 February
        "8503.15.1238",
    ],
)
def test_more_forms_that_are_not_personnummer(text):
    assert not has_personnummer(text), text


@pytest.mark.parametrize("form", ["{d}.{n}", "{d}/{n}", "{d}\u00ad{n}", "{d}\u200d{n}"])
def test_false_positive_rate_of_the_new_separators_is_the_calendar_and_check_digit_rate(form):
    """Random ten-digit ids written with the new separators pass no more often than plain ten digits."""
    rng = np.random.default_rng(11)
    n = 40_000
    x = rng.integers(0, 10**10, n)
    ids = pd.Series([form.format(d=f"{v:010d}"[:6], n=f"{v:010d}"[6:]) for v in x], dtype="string")
    plain = pd.Series([f"{v:010d}" for v in x], dtype="string")
    assert series_has_personnummer(ids).tolist() == series_has_personnummer(plain).tolist()
    expected = _expected_rate()
    assert abs(series_has_personnummer(ids).mean() - expected) < 4 * (expected * (1 - expected) / n) ** 0.5


def test_dates_with_hyphens_rest_on_the_check_digit_alone():
    """A real date with hyphens and four digits is a candidate whatever the date: only the check digit
    (one in ten) tells an id made of a date and a serial from a personnummer (data/README.md says so)."""
    rng = np.random.default_rng(3)
    days = pd.date_range("1990-01-01", "2020-12-31", freq="D")
    ids = pd.Series(
        [
            f"{days[i]:%Y-%m-%d}-{s:04d}"
            for i, s in zip(rng.integers(0, len(days), 20_000), rng.integers(0, 10_000, 20_000))
        ],
        dtype="string",
    )
    assert 0.09 < series_has_personnummer(ids).mean() < 0.11
    # the advice holds: a letter before the serial, or no hyphen before it, is never taken
    safe = ids.str.replace(r"-(\d{4})$", r"-L\1", regex=True)
    assert not series_has_personnummer(safe).any()


# --------------------------------------------------------------------------- invisible characters inside a number
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]


@pytest.mark.parametrize("ch", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize(
    "template",
    [
        "8503{c}15-1238",  # inside the date
        "850315-12{c}38",  # inside the serial
        "8{c}5{c}0{c}3{c}1{c}5{c}1{c}2{c}3{c}8",  # between every digit
        "19850{c}315 1238",  # twelve digits with a space
        "{c}850315-1238{c}",  # around it
        "85-0{c}3-15-1238",  # a date with hyphens
        "5031{c}51235",  # a number that lost its leading zero
    ],
)
def test_an_invisible_character_inside_the_digits_is_read_as_nothing(template, ch):
    """A number is matched as a reader sees it: an invisible character anywhere in it (copied from a
    web page or a word processor) does not hide it, and redaction removes all of it."""
    text = template.format(c=ch)
    assert has_personnummer(text)
    whole = template.startswith("5031")  # a lost leading zero is recognised in a whole value only
    shown = redact(text if whole else f"se {text} här").replace(ch, "")
    assert shown == ("[personnummer]" if whole else "se [personnummer] här")
    for dtype in ("string", object):
        assert series_has_personnummer(pd.Series([text, "x"], dtype=dtype)).tolist() == [True, False]
    last = max(i for i, c in enumerate(text) if c.isdigit())  # the check digit still decides
    wrong = text[:last] + str((int(text[last]) + 1) % 10) + text[last + 1 :]
    assert not has_personnummer(wrong), wrong


def test_find_and_scan_place_a_number_with_invisible_characters_in_the_original_text():
    text = "ring 8503\u200b15-12\u00ad38 eller 701063-2391"
    assert find_personnummer(text) == ["8503\u200b15-12\u00ad38", "701063-2391"]
    assert redact(text) == "ring [personnummer] eller [personnummer]"


def test_a_soft_hyphen_between_a_hyphenated_date_and_the_serial_still_reads_as_a_hyphen():
    assert has_personnummer("1985-03-15\u00ad1238")  # where the line breaks it shows as 1985-03-15-1238
    assert redact("x 1985-03-15\u00ad1238 y") == "x [personnummer] y"


@pytest.mark.parametrize("ch", ["\u200b", "\u00ad"])
def test_invisible_characters_add_no_false_positives(ch):
    """Random ten-digit ids with an invisible character inside the date pass exactly as often as the
    plain ids: the character changes nothing a reader sees."""
    rng = np.random.default_rng(17)
    x = rng.integers(0, 10**10, 20_000)
    plain = pd.Series([f"{v:010d}" for v in x], dtype="string")
    hidden = pd.Series([f"{v:010d}"[:4] + ch + f"{v:010d}"[4:] for v in x], dtype="string")
    assert series_has_personnummer(hidden).tolist() == series_has_personnummer(plain).tolist()
    words = pd.Series([f"ord{ch}text {v % 1000}" for v in x[:2000]], dtype="string")
    assert not series_has_personnummer(words).any()
