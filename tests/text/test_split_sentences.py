import pytest

from speech.errors import ConfigError
from speech.text import split_sentences


def test_english_abbreviations_initials_and_decimals():
    text = (
        "Dr. Smith paid $3.50 for it, e.g. by card. It was cheap! Was it? "
        "J. R. R. Tolkien wrote books. The end"
    )
    assert split_sentences(text, "en") == [
        "Dr. Smith paid $3.50 for it, e.g. by card.",
        "It was cheap!",
        "Was it?",
        "J. R. R. Tolkien wrote books.",
        "The end",
    ]


def test_terminal_abbreviation_and_quotes():
    text = 'I like cats, dogs, etc. Then "I left." He said so... Really?! Yes.'
    assert split_sentences(text, "en") == [
        "I like cats, dogs, etc.",
        'Then "I left."',
        "He said so...",
        "Really?!",
        "Yes.",
    ]


def test_lowercase_after_period_does_not_split_in_cased_text():
    assert split_sentences("Approx. five of them. Done.", "en") == ["Approx. five of them.", "Done."]
    assert split_sentences("it is nine. it is ten.", "en") == ["it is nine.", "it is ten."]


def test_french_and_german():
    assert split_sentences("M. Dupont est là. Il a 3,5 ans. Bonjour !", "fr") == [
        "M. Dupont est là.",
        "Il a 3,5 ans.",
        "Bonjour !",
    ]
    text = "Am 3. Mai kam Hr. Müller, z.B. mit Freunden usw. Danach ging er. Er hat 3. Dann nicht."
    assert split_sentences(text, "de") == [
        "Am 3. Mai kam Hr. Müller, z.B. mit Freunden usw.",
        "Danach ging er.",
        "Er hat 3.",
        "Dann nicht.",
    ]


def test_paragraphs_and_empty_text():
    assert split_sentences("First line\nstill first\n\nSecond", "en") == ["First line still first", "Second"]
    assert split_sentences("   ", "en") == []


def test_unknown_language():
    with pytest.raises(ConfigError):
        split_sentences("Hi.", "xx")
