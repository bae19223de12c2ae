"""speech.models."""
