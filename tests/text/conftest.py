import pytest
from num2words import num2words


@pytest.fixture(scope="session")
def number_corpus() -> list[str]:
    """200 English sentences made of spelled-out numbers."""
    return [f"the number {num2words(i * 37 + 5)} comes after {num2words(i * 37 + 4)}" for i in range(200)]
