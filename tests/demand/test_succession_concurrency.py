"""Two successions that would close a loop together, saved at once on two real
connections (threads): one is saved, the other refused; never both."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from coordination.weeks import add_weeks, current_week
from demand.models import Succession
from demand.services.launches import succession_set
from tests.factories import ProductFactory, ProductLineFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="real concurrent writes need PostgreSQL"
    ),
]


@pytest.mark.parametrize("length", [2, 4])
def test_concurrent_successions_never_close_a_loop(marketing_user, length):
    line = ProductLineFactory(name="Iced tea")
    chain = [ProductFactory(sku=f"TEA-C{k}-05", product_line=line) for k in range(length)]
    # All but two links exist; the last two are saved at once and would close the loop.
    for k in range(length - 2):
        Succession.objects.create(
            product=chain[k], successor=chain[k + 1], switch_week=add_weeks(current_week(), 3)
        )
    links = [(chain[-2], chain[-1]), (chain[-1], chain[0])]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def save(old, new):
        try:
            barrier.wait()
            succession_set(
                actor=marketing_user,
                product=old,
                successor_sku=new.sku,
                switch_week=add_weeks(current_week(), 4),
                expected_version=0,
            )
            outcomes.append("saved")
        except ValidationError as exc:
            outcomes.append(exc.message_dict["successor"][0].split(":")[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=link) for link in links]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["That would make a loop", "saved"]
    assert Succession.objects.count() == length - 1
