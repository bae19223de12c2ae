"""speech.inference."""
