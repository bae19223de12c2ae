"""speech.attention."""
