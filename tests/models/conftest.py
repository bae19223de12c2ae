"""Sizes shared by the model tests."""


def tiny_speller(heads: int = 1) -> dict:
    """A speller config small enough to train in a test."""
    return dict(
        embed_dim=8,
        hidden_size=32,
        attention_dim=16,
        attention_heads=heads,
        location_filters=4,
        location_kernel=5,
        dropout=0.0,
    )
