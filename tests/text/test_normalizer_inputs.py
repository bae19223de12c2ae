"""What users type: times, dates, years, phone numbers, acronyms, units, symbols and emoji (issue 13)."""

from __future__ import annotations

import pytest

from speech.text import TextNormalizer, split_sentences

ENGLISH = [
    ("Hello, world. It costs $5 on March 3rd.", "hello, world. it costs five dollars on march third."),
    (
        "Dr. Smith paid £2.50 for 3 apples at 10:30 on 1/2/2024!",
        "doctor smith paid two pounds and fifty pence for three apples at ten thirty on january second "
        "twenty twenty-four!",
    ),
    ("I'm 100% sure: it's the 21st century.", "i'm one hundred percent sure: it's the twenty-first century."),
    ("Call me at 555-1234, OK?", "call me at five five five one two three four, okay?"),
    ("e.g. the U.S.A. & the U.K.", "for example the u s a and the u k."),
]


@pytest.mark.parametrize(("text", "expected"), ENGLISH)
def test_issue_examples(text: str, expected: str) -> None:
    assert TextNormalizer("en")(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9:05", "nine oh five"),
        ("It was 12:00 and then 18:00.", "it was twelve o'clock and then eighteen hundred."),
        ("Meet at 7pm, or 8 A.M. Sharp.", "meet at seven p m, or eight a m. sharp."),
        ("at 5:45pm today", "at five forty-five p m today"),
        ("10:30:15", "ten thirty and fifteen seconds"),
    ],
)
def test_english_times(text: str, expected: str) -> None:
    assert TextNormalizer("en")(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("In 1999 and 2024.", "in nineteen ninety-nine and twenty twenty-four."),
        (
            "2000, 2005, 1066 and 1,999",
            "two thousand, two thousand and five, one thousand and sixty-six and "
            "one thousand, nine hundred and ninety-nine",
        ),
        ("the '80s, the 1990s and the 2000s", "the eighties, the nineteen nineties and the two thousands"),
        (
            "Born 13/1/1990, married 2024-06-30.",
            "born january thirteenth nineteen ninety, married june thirtieth twenty twenty-four.",
        ),
        ("On 4 July and July 4, 1776.", "on the fourth of july and july fourth, seventeen seventy-six."),
        ("Pages 10-20", "pages ten to twenty"),
    ],
)
def test_english_years_dates_and_ranges(text: str, expected: str) -> None:
    assert TextNormalizer("en")(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Call (555) 123-4567 or 555-123-4567.",
            "call five five five one two three four five six seven or "
            "five five five one two three four five six seven.",
        ),
        ("1/3 and 2/5 and 1/2 and 3/2", "one third and two fifths and one half and three halves"),
        ("It's -3°C or 27 °F.", "it's minus three degrees celsius or twenty-seven degrees fahrenheit."),
        ("5 km at 60 km/h, 1 kg", "five kilometers at sixty kilometers per hour, one kilogram"),
        ("a + b = c, 3 × 4, #1 fan", "a plus b equals c, three times four, number one fan"),
        ("Mail bob.smith@example.com today.", "mail bob dot smith at example dot com today."),
        (
            "See https://example.org/docs or www.a.com.",
            "see example dot org slash docs or w w w dot a dot com.",
        ),
    ],
)
def test_english_numbers_units_symbols_and_addresses(text: str, expected: str) -> None:
    assert TextNormalizer("en")(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NASA hired the CEO of IBM.", "nasa hired the c e o of i b m."),
        ("THIS IS GREAT. The FBI agreed.", "this is great. the f b i agreed."),  # shouting is read
        ("GPUs, CDs, HTML and X-RAY", "g p u's, c d's, h t m l and x-ray"),
        ("World War II, Apollo XI and Henry VIII", "world war two, apollo eleven and henry the eighth"),
        ("He lives in the U.S. He is happy.", "he lives in the u s. he is happy."),
    ],
)
def test_capitals_and_acronyms(text: str, expected: str) -> None:
    assert TextNormalizer("en")(text) == expected


def test_acronyms_keep_their_case_without_lowercasing_and_can_be_switched_off() -> None:
    assert TextNormalizer("en", lowercase=False)("The FBI and U.S.A.") == "The F B I and U S A."
    assert TextNormalizer("en", abbreviations=False)("The FBI") == "the fbi"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I ❤️ NY 🍕🍕!", "i n y!"),
        ("Go ~ ^ * < > | now", "go now"),
        ("keycap 1️⃣, family 👨\u200d👩\u200d👧, flag 🇫🇷", "keycap one, family, flag"),
        ("\u200bzero\u200dwidth\ufeff", "zerowidth"),
        ("Ω ∑ → ★", "ω"),  # a letter of another script passes; symbols go
        ("🍕", ""),
    ],
)
def test_emoji_and_unknown_symbols_are_dropped_without_crashing(text: str, expected: str) -> None:
    assert TextNormalizer("en")(text) == expected


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("fr", "Le 1/2/2024 à 10h30.", "le premier février deux mille vingt-quatre à dix heures trente."),
        (
            "fr",
            "À 21h05, 1 km, 3/4 et 1/2.",
            "à vingt et une heures cinq, un kilomètre, trois quarts et un demi.",
        ),
        ("fr", "Louis XIV et la SNCF, le 1 mai.", "louis quatorze et la s n c f, le premier mai."),
        (
            "de",
            "Am 1.2.2024 um 10:30 Uhr.",
            "am ersten februar zweitausendvierundzwanzig um zehn uhr dreißig.",
        ),
        (
            "de",
            "Um 1 Uhr, 1 km, 20-25 °C.",
            "um ein uhr, ein kilometer, zwanzig bis fünfundzwanzig grad celsius.",
        ),
        (
            "de",
            "2/3 und 1/5, die 1990er, 1 €",
            "zwei drittel und ein fünftel, die neunzehnhundertneunziger, ein euro",
        ),
    ],
)
def test_french_and_german(lang: str, text: str, expected: str) -> None:
    assert TextNormalizer(lang)(text) == expected


def test_dotted_acronyms_end_a_sentence_only_before_a_capital() -> None:
    assert split_sentences("e.g. the U.S.A. & the U.K. are big.") == ["e.g. the U.S.A. & the U.K. are big."]
    assert split_sentences("He lives in the U.S. He is happy.") == ["He lives in the U.S.", "He is happy."]
