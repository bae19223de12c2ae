"""Corpus preparation: each script writes the JSONL manifest of shared/DESIGN.md."""
