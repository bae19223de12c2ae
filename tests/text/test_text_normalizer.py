import pytest
from num2words import num2words

from speech.errors import ConfigError
from speech.text import TextNormalizer


def n2w(n, lang="en", to="cardinal"):
    return num2words(n, lang=lang, to=to)


def test_english_cardinals_with_thousands_separator():
    out = TextNormalizer("en")("I have 21 cats and 1,234 dogs.")
    assert out == f"i have {n2w(21)} cats and {n2w(1234)} dogs."
    assert out == "i have twenty-one cats and one thousand, two hundred and thirty-four dogs."


def test_years_and_negative_numbers():
    assert TextNormalizer("en")("In 1999 it was -5.") == "in nineteen ninety-nine it was minus five."
    # a thousands separator makes it a cardinal; French reads years as cardinals
    assert TextNormalizer("en")("1,999") == n2w(1999)
    assert TextNormalizer("fr")("En 1999") == f"en {n2w(1999, 'fr')}"
    assert TextNormalizer("de")("Im Jahr 1999") == "im jahr neunzehnhundertneunundneunzig"


def test_english_ordinals():
    out = TextNormalizer("en")("The 1st, 2nd, 3rd and 21st.")
    expected = ", ".join(n2w(i, to="ordinal") for i in (1, 2, 3))
    assert out == f"the {expected} and {n2w(21, to='ordinal')}."
    assert "twenty-first" in out


def test_french_ordinals():
    out = TextNormalizer("fr")("Le 1er mai, la 1re fois, la 1ère, le 2e et le 3ème.")
    assert (
        out == f"le premier mai, la première fois, la première, le {n2w(2, 'fr', 'ordinal')} et le troisième."
    )


def test_german_ordinal_before_month_or_lowercase_word():
    out = TextNormalizer("de")("Am 3. Mai kam der 2. große Zug.")
    assert out == f"am {n2w(3, 'de', 'ordinal')}n mai kam der {n2w(2, 'de', 'ordinal')} große zug."
    # Before a capitalised word that is not a month, "3." is a number ending a sentence.
    assert TextNormalizer("de")("Ich habe 3. Dann") == f"ich habe {n2w(3, 'de')}. dann"


def test_decimals():
    assert TextNormalizer("en")("Pi is 3.14.") == "pi is three point one four."
    assert TextNormalizer("en")("It is 2.50") == f"it is {n2w(2)} point {n2w(5)} {n2w(0)}"
    assert TextNormalizer("fr")("3,5 kg") == "trois virgule cinq kilogrammes"
    assert TextNormalizer("de")("3,5 kg") == "drei komma fünf kilogramm"
    assert TextNormalizer("de", lowercase=False)("3,5 kg") == "drei Komma fünf Kilogramm"


def test_french_and_german_thousands():
    fr = TextNormalizer("fr")
    assert fr("J'ai 1 234 chats.") == f"j'ai {n2w(1234, 'fr')} chats."
    assert fr("1\u202f234 et 1.000.000") == f"{n2w(1234, 'fr')} et {n2w(10**6, 'fr')}"
    assert fr("1 234,5") == f"{n2w(1234, 'fr')} virgule cinq"
    de = TextNormalizer("de")
    assert de("Ich habe 1.234 Katzen.") == f"ich habe {n2w(1234, 'de')} katzen."
    assert de("1 234") == n2w(1234, "de")


def test_currency():
    en = TextNormalizer("en")
    assert en("It costs $3.50.") == f"it costs {n2w(3)} dollars and {n2w(50)} cents."
    assert en("€1 or £2") == "one euro or two pounds"
    assert en("$0.05") == "five cents"
    assert en("$2.5 million") == "two point five million dollars"
    assert en("£1.01") == "one pound and one penny"
    assert TextNormalizer("fr")("5 € et 1 £") == "cinq euros et une livre"
    assert TextNormalizer("fr")("3,50 €") == "trois euros et cinquante centimes"
    assert TextNormalizer("de")("3,50 € und $5") == f"drei euro und {n2w(50, 'de')} cent und fünf dollar"


def test_percent_and_ampersand():
    assert TextNormalizer("en")("50% & more") == "fifty percent and more"
    assert TextNormalizer("fr")("50 %") == "cinquante pour cent"
    assert TextNormalizer("de")("7,5 %") == "sieben komma fünf prozent"


def test_english_abbreviations():
    en = TextNormalizer("en")
    assert en("Dr. Smith met Mr. and Mrs. Jones vs. St. John.") == (
        "doctor smith met mister and missus jones versus saint john."
    )
    assert en("Fruit, e.g. apples, i.e. food, etc.") == "fruit, for example apples, that is food, et cetera."
    assert en("He lives on Main St. Next door.") == "he lives on main street. next door."
    assert en("No. 5 is No good") == "number five is no good"


def test_french_and_german_abbreviations():
    assert TextNormalizer("fr")("M. Dupont et Mme Durand voient le Dr Martin.") == (
        "monsieur dupont et madame durand voient le docteur martin."
    )
    assert TextNormalizer("de")("Hr. Müller und Fr. Schmidt, z.B. Dr. Meier, usw. bzw. mehr") == (
        "herr müller und frau schmidt, zum beispiel doktor meier, und so weiter beziehungsweise mehr"
    )


def test_punctuation_policies():
    text = "“Hello,” she said — isn't it (really) twenty-one? Yes; fine!"
    assert TextNormalizer("en", punctuation="keep")(text) == (
        "hello, she said - isn't it really twenty-one? yes; fine!"
    )
    assert (
        TextNormalizer("en", punctuation="sentence")(text)
        == "hello she said isn't it really twenty-one? yes fine!"
    )
    assert (
        TextNormalizer("en", punctuation="strip")(text)
        == "hello she said isn't it really twenty-one yes fine"
    )
    assert TextNormalizer("fr", punctuation="strip")("L'homme — « oui » !") == "l'homme oui"
    assert TextNormalizer("fr", punctuation="keep")("Vraiment ?") == "vraiment?"


def test_unicode_case_and_whitespace():
    assert TextNormalizer("en", lowercase=False)("  Ｈｅｌｌｏ\n\tWorld…  ") == "Hello World..."
    assert TextNormalizer("de")("Größe") == "größe"


def test_switches_and_letters_next_to_digits():
    assert TextNormalizer("en", numbers=False)("Dr. Who has 3") == "doctor who has 3"
    assert TextNormalizer("en", abbreviations=False, punctuation="strip")("Dr. Who") == "dr who"
    assert TextNormalizer("en")("mp3 and 3D") == "mp three and three d"


def test_huge_numbers_are_read_digit_by_digit():
    assert TextNormalizer("en")("1" * 30) == " ".join(["one"] * 30)


@pytest.mark.parametrize("kwargs", [{"lang": "es"}, {"lang": "EN"}, {"punctuation": "drop"}])
def test_bad_config(kwargs):
    with pytest.raises(ConfigError):
        TextNormalizer(**kwargs)
