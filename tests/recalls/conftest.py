"""Products the recall tests open incidents on (a test module may bring its own `tea`)."""

import pytest

from tests.factories import ProductFactory


@pytest.fixture
def tea():
    return ProductFactory(sku="TEA-LEM-05", name="Lemon tea")


@pytest.fixture
def mint():
    return ProductFactory(sku="TEA-MNT-01", name="Mint tea")
