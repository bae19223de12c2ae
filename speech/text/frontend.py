"""The TTS text front end: normalise, then (optionally) phonemise, before tokenizing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from speech.config import check_choice, check_nonempty
from speech.text._languages import LANGUAGES
from speech.text.normalizer import PUNCTUATION_POLICIES, TextNormalizer

_ESPEAK_VOICES = {"en": "en-us", "fr": "fr-fr", "de": "de"}


@dataclass
class TextFrontEndConfig:
    """How raw text becomes the symbol string a TTS tokenizer encodes.

    Attributes:
        lang: Language of the text normaliser (``en``, ``fr``, ``de``); with ``normalize`` off, any
            language code (it then picks the espeak-ng voice only).
        normalize: Expand numbers, abbreviations and symbols first.
        punctuation: Punctuation policy of the normaliser (``keep``, ``sentence``, ``strip``).
        phonemes: Turn the normalised text into IPA phonemes with espeak-ng.
        phoneme_lang: espeak-ng voice for phonemes; None picks one for ``lang`` (``en`` -> ``en-us``).
    """

    lang: str = "en"
    normalize: bool = True
    punctuation: str = "keep"
    phonemes: bool = False
    phoneme_lang: str | None = None

    def __post_init__(self) -> None:
        if self.normalize:
            check_choice(self, "lang", sorted(LANGUAGES))
        check_nonempty(self, "lang", "phoneme_lang")
        check_choice(self, "punctuation", PUNCTUATION_POLICIES)

    @property
    def espeak_voice(self) -> str:
        """The espeak-ng voice phonemes come from."""
        return self.phoneme_lang or _ESPEAK_VOICES.get(self.lang, self.lang)


class TextFrontEnd:
    """Raw text -> the string a TTS tokenizer encodes; phonemes are cached per text.

    Args:
        config: See :class:`TextFrontEndConfig`.
    """

    def __init__(self, config: TextFrontEndConfig) -> None:
        self.config = config
        self.normalizer = (
            TextNormalizer(config.lang, punctuation=config.punctuation) if config.normalize else None
        )
        self.phonemizer = None
        self._cache: dict[str, str] = {}
        if config.phonemes:
            from speech.text.phonemes import Phonemizer

            self.phonemizer = Phonemizer(config.espeak_voice)

    def normalize(self, text: str) -> str:
        """The normaliser's output (the text unchanged without one)."""
        return self.normalizer(text) if self.normalizer is not None else text

    def prepare(self, texts: Iterable[str]) -> None:
        """Phonemise many texts in one espeak-ng call (a cache for later calls); no-op without phonemes."""
        if self.phonemizer is None:
            return
        todo = sorted({n for n in map(self.normalize, texts) if n not in self._cache})
        self._cache.update(zip(todo, self.phonemizer.phonemize(todo), strict=True))

    def __call__(self, text: str) -> str:
        """Normalise (and phonemise) one text."""
        text = self.normalize(text)
        if self.phonemizer is None:
            return text
        if text not in self._cache:
            self._cache[text] = self.phonemizer.phonemize([text])[0]
        return self._cache[text]

    def __getstate__(self) -> dict:
        return {"config": self.config, "_cache": self._cache}

    def __setstate__(self, state: dict) -> None:  # DataLoader workers rebuild espeak handles
        self.__init__(state["config"])
        self._cache = state["_cache"]


def text_front_end(config: TextFrontEndConfig) -> TextFrontEnd:
    """A :class:`TextFrontEnd` for ``config``."""
    return TextFrontEnd(config)
