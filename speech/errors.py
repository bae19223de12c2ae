"""User-facing errors.

Every error a user can cause with bad input (a bad file, a bad argument) is a subclass of
:class:`SpeechError`. Its message is one line that names the file and the problem; the CLI
prints it without a traceback and exits with code 2.
"""

from __future__ import annotations


class SpeechError(Exception):
    """Base class of errors caused by bad user input; the message is a single line."""


class AudioError(SpeechError):
    """An audio file is missing, unreadable, empty, truncated, or holds NaN/Inf samples."""


class ManifestError(SpeechError):
    """A manifest line is malformed; the message reads ``file:line: problem``."""


class TokenizerError(SpeechError):
    """A tokenizer file is missing or malformed, or a tokenizer cannot be trained."""


class ConfigError(SpeechError):
    """A configuration value is invalid."""
