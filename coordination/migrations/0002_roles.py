"""Create the five role groups. Their permissions are synced after every migrate by
coordination.roles.sync_role_permissions, because permissions of models added by later
migrations do not exist yet at this point."""

from django.db import migrations

ROLES = ("Marketing", "Sales", "Production", "Quality", "Admin")


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("coordination", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
