"""What the issue-14 moves (the planning review to planning/, production lines to
coordination) must not change: the comment URLs of their timelines, and the demo's
backdated activity on last month's cycle."""

import datetime as dt
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from coordination.models import ActivityEvent, Line
from planning import services
from planning.models import PlanningCycle
from tests.factories import LineFactory
from tests.planning.planning_world import build_world

pytestmark = pytest.mark.django_db


def test_a_cycle_timeline_keeps_its_comment_url(client, admin_user, sales_user, marketing_user):
    build_world(sales_user)
    cycle = services.planning_cycle_open(actor=admin_user, period_start=dt.date(2026, 12, 1))
    url = f"/timeline/coordination.planningcycle/{cycle.pk}/comment/"
    assert reverse("timeline_comment", args=["coordination.planningcycle", cycle.pk]) == url
    client.force_login(marketing_user)

    page = client.get(reverse("planning_detail", args=[cycle.pk])).content.decode()
    response = client.post(url, {"body": "Numbers look right."})

    assert f'action="{url}"' in page
    assert response.status_code == 302
    comment = ActivityEvent.objects.get(verb="commented")
    assert (comment.target, comment.actor, comment.message) == (
        cycle,
        marketing_user,
        "Numbers look right.",
    )
    assert (
        client.post(
            f"/timeline/planning.planningcycle/{cycle.pk}/comment/", {"body": "x"}
        ).status_code
        == 404
    )
    assert ActivityEvent.objects.filter(verb="commented").count() == 1


def test_a_line_timeline_keeps_its_comment_url(client, production_user):
    line = LineFactory(name="Canning 2")
    url = f"/timeline/production.line/{line.pk}/comment/"
    client.force_login(production_user)

    page = client.get(reverse("line_detail", args=[line.pk])).content.decode()
    response = client.post(url, {"body": "Shutdown moved a week."})

    assert f'action="{url}"' in page
    assert response.status_code == 302
    comment = ActivityEvent.objects.get(verb="commented")
    assert (comment.target, comment.message) == (line, "Shutdown moved a week.")
    assert (
        client.post(f"/timeline/coordination.line/{line.pk}/comment/", {"body": "x"}).status_code
        == 404
    )
    assert ActivityEvent.objects.filter(verb="commented").count() == 1


def test_the_demo_dates_last_months_meeting_last_month():
    call_command("seed_demo", allow_production=True, stdout=StringIO())
    agreed = PlanningCycle.objects.order_by("period_start").first()
    opened = timezone.make_aware(dt.datetime.combine(agreed.period_start, dt.time(9, 0)))

    events = ActivityEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(PlanningCycle), object_id=agreed.pk
    )

    assert agreed.status == PlanningCycle.Status.AGREED
    assert events.count() > 0
    assert set(events.values_list("created_at", flat=True)) == {opened + dt.timedelta(days=2)}
    assert Line.objects.count() == 3
