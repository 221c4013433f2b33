from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from coordination import demo, demo_registry
from coordination.models import EmailNotification


class Command(BaseCommand):
    help = (
        "Load Tandem's demo company (users, products, requests, ...). "
        "Safe to run again: nothing is duplicated."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even though DEBUG is off. Demo users have a published password.",
        )

    def handle(self, *args, allow_production=False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "DEBUG is off, so this looks like a production database. Demo users have a "
                "published password; pass --allow-production if you really want them here."
            )
        results = demo.seed_users()
        created = sum(1 for _, was_created in results if was_created)
        self.stdout.write(f"Demo users: {created} created, {len(results) - created} refreshed.")
        # Every app's part, in dependency order (coordination.demo_registry). The e-mails
        # the demo's events write (its stop-ship) stay in memory: demo addresses are not
        # real, and the console would fill with them.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            demo_registry.seed_all(self.stdout.write)
        self.stdout.write(
            f"E-mails: {EmailNotification.objects.count()} in the outbox (admin, "
            "“Email notifications”), kept in memory, not sent."
        )
        self.stdout.write("")
        # Not a fixed address: runserver may be given any port, and prints the one it uses.
        self.stdout.write(
            "Start the app (manage.py runserver) and sign in at the address it prints, "
            "with any of these:"
        )
        width = max(len(user.username) for user, _ in results)
        for user, _ in results:
            self.stdout.write(
                f"  {user.username.ljust(width)}  password: {demo.DEMO_PASSWORD}  role: {user.role}"
            )
