"""manage.py create_api_client NAME --scopes schedules:read,quotas:read

Prints the new key on stdout (only there, only once); it is stored only as a hash."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from coordination.api.scopes import SCOPES
from coordination.services import api_clients


class Command(BaseCommand):
    help = "Create an API client with scopes and print its key (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--scopes",
            required=True,
            nargs="+",
            help=f"Separated by spaces or commas, from: {', '.join(SCOPES)}.",
        )

    def handle(self, *args, name, scopes, **options):
        scope_list = [
            scope.strip() for value in scopes for scope in value.split(",") if scope.strip()
        ]
        try:
            client, key = api_clients.client_create(name=name, scopes=scope_list)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stderr.write(
            f"Created API client {client.name} with scopes {', '.join(client.scopes)}. "
            "The key below is shown only now:"
        )
        self.stdout.write(key)
