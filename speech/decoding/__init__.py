"""speech.decoding."""
