"""Quality's task "Test retained samples", and who may complete it: its owner, its
department (Quality) and the recall managers (Quality, Production, Admin) — never
another department, whatever permission its role holds."""

from django.utils import timezone

from recalls.services import communication

TITLE = "Test retained samples"
# (fixture name, may complete): the browser and the API enumerate the roles alike.
ROLE_MAY_COMPLETE = [
    ("quality_user", True),  # the owner
    ("production_user", True),  # a recall manager
    ("admin_user", True),
    ("sales_user", False),
    ("marketing_user", False),
]


def add_samples_task(incident, owner):
    return communication.task_add(
        actor=owner,
        incident_id=incident.pk,
        title=TITLE,
        department="quality",
        owner_id=owner.pk,
        due_date=timezone.localdate(),
    )


def refusal(owner) -> str:
    return f"Only its owner ({owner}), Quality or the recall managers may complete “{TITLE}”."
