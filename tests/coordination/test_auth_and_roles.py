import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from coordination import roles
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_in_page_renders_the_form(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">Username</label>' in html
    assert 'name="password"' in html
    assert response.context["nav_items"] == []


def test_sign_in_with_the_right_password_lands_on_home(client, marketing_user):
    response = client.post(reverse("login"), {"username": "mara", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(marketing_user.pk)


def test_wrong_password_shows_a_clear_message_and_signs_nobody_in(client, marketing_user):
    response = client.post(reverse("login"), {"username": "mara", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_empty_sign_in_form_reports_each_field(client):
    response = client.post(reverse("login"), {"username": "", "password": ""})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "username": ["This field is required."],
        "password": ["This field is required."],
    }


def test_sign_out_needs_post_and_ends_the_session(client, marketing_user):
    client.force_login(marketing_user)
    assert client.get(reverse("logout")).status_code == 405
    assert client.session["_auth_user_id"] == str(marketing_user.pk)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_signed_out_visitor_is_sent_to_sign_in(client):
    for name in ("home", "team"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={reverse(name)}"


EVERYONE = [
    "Home",
    "Products",
    "Requests",
    "Promotions",
    "Forecasts",
    "Production",
    "Recalls",
    "Planning",
]


@pytest.mark.parametrize(
    ("role", "expected_labels"),
    [
        (roles.MARKETING, [*EVERYONE, "Voice of customer"]),
        (roles.SALES, [*EVERYONE, "Voice of customer"]),
        (roles.PRODUCTION, [*EVERYONE, "Spec reviews"]),
        (roles.QUALITY, EVERYONE),
        (roles.ADMIN, [*EVERYONE, "Spec reviews", "Voice of customer", "Team", "Admin"]),
    ],
)
def test_each_role_sees_its_own_navigation(client, make_user, role, expected_labels):
    user = make_user(role, is_staff=role == roles.ADMIN)
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert [item["label"] for item in response.context["nav_items"]] == expected_labels
    assert response.context["user_roles"] == [role]
    html = response.content.decode()
    assert (f'href="{reverse("team")}"' in html) == ("Team" in expected_labels)


def test_role_without_permission_gets_the_403_page(client, marketing_user):
    client.force_login(marketing_user)
    response = client.get(reverse("team"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "You do not have access to this page" in html
    assert "(Marketing)" in html


def test_admin_sees_the_team_by_role(client, admin_user, marketing_user, make_user):
    make_user(username="norole")
    client.force_login(admin_user)
    response = client.get(reverse("team"))
    assert response.status_code == 200
    groups = {g["role"]: [u.username for u in g["members"]] for g in response.context["groups"]}
    assert groups == {
        "Marketing": ["mara"],
        "Sales": [],
        "Production": [],
        "Quality": [],
        "Admin": ["ada"],
        "No role": ["norole"],
    }


def test_user_without_role_is_told_so(client, make_user):
    client.force_login(make_user(username="newbie"))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "Your account has no role yet" in response.content.decode()


def test_migrations_create_the_five_roles_and_admin_holds_every_permission():
    from django.contrib.auth.models import Permission

    assert sorted(Group.objects.values_list("name", flat=True)) == sorted(roles.ROLES)
    admin = Group.objects.get(name=roles.ADMIN)
    assert admin.permissions.count() == Permission.objects.count()


def test_role_sync_matches_the_table_exactly(monkeypatch):
    marketing = Group.objects.get(name=roles.MARKETING)
    extra = Group.objects.get(name=roles.ADMIN).permissions.get(codename="delete_user")
    marketing.permissions.add(extra)
    monkeypatch.setitem(roles.ROLE_PERMISSIONS, roles.MARKETING, {"coordination.view_user"})
    roles.sync_role_permissions()
    granted = sorted(
        f"{p.content_type.app_label}.{p.codename}" for p in marketing.permissions.all()
    )
    assert granted == ["coordination.view_user"]


def test_role_sync_refuses_an_unknown_permission(monkeypatch):
    monkeypatch.setitem(roles.ROLE_PERMISSIONS, roles.SALES, {"coordination.fly_plane"})
    with pytest.raises(LookupError, match=r"coordination\.fly_plane"):
        roles.sync_role_permissions()


def test_seed_demo_twice_leaves_the_same_rows(capsys):
    from coordination.models import ActivityEvent, CustomerRequest, Product, Specification
    from planning.models import CycleDecision, CycleSignOff, PlanningCycle, PlanningScenario

    def counts():
        return [
            model.objects.count()
            for model in (
                Product,
                Specification,
                CustomerRequest,
                ActivityEvent,
                PlanningCycle,
                CycleSignOff,
                CycleDecision,
                PlanningScenario,
            )
        ]

    call_command("seed_demo", allow_production=True)
    first = sorted(get_user_model().objects.values_list("username", "groups__name"))
    first_counts = counts()
    call_command("seed_demo", allow_production=True)
    second = sorted(get_user_model().objects.values_list("username", "groups__name"))
    assert counts() == first_counts
    # 40 master data products and the new flavour the demand demo launches (TEA-WAT-05).
    assert first_counts[0] == 41
    # 150 logged by sales, the rush order (production demo) and the quality issue the
    # live recall was escalated from (recalls demo).
    assert first_counts[2] == 152
    assert Specification.objects.filter(status="proposed").count() == 3
    # Planning review: last month's cycle agreed (3 sign-offs, 2 decisions, 3 action items
    # of which 1 done); this month's in review, signed by Marketing, with one scenario.
    cycles = list(PlanningCycle.objects.order_by("period_start"))
    assert [c.status for c in cycles] == ["agreed", "in_review"]
    assert [c.sign_offs.count() for c in cycles] == [3, 1]
    assert sorted(CycleDecision.objects.values_list("kind", "status")) == [
        ("action", "done"),
        ("action", "open"),
        ("action", "open"),
        ("decision", "open"),
        ("decision", "open"),
    ]
    assert first_counts[4:7] == [2, 4, 5]
    assert (
        first
        == second
        == [
            ("admin", "Admin"),
            ("marketing", "Marketing"),
            ("production", "Production"),
            ("quality", "Quality"),
            ("sales", "Sales"),
        ]
    )
    out = capsys.readouterr().out
    assert "Demo users: 0 created, 5 refreshed." in out
    assert "marketing   password: tandem-demo  role: Marketing" in out
    assert (
        "Start the app (manage.py runserver) and sign in at the address it prints, "
        "with any of these:"
    ) in out
    assert "8000" not in out  # runserver may run on any port


def test_seed_demo_refuses_a_production_database_without_the_flag(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="--allow-production"):
        call_command("seed_demo")
    assert get_user_model().objects.count() == 0


def test_demo_users_can_sign_in(client):
    call_command("seed_demo", allow_production=True)
    response = client.post(reverse("login"), {"username": "production", "password": "tandem-demo"})
    assert response.status_code == 302
