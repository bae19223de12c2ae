"""speech.tasks."""
