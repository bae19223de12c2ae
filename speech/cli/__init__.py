"""speech.cli."""
