from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from coordination import demo


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
        products = demo.seed_products()
        self.stdout.write(f"Products: {products['products']} ({products['created']} new).")
        requests = demo.seed_requests()
        self.stdout.write(f"Customer requests: {requests['requests']} ({requests['created']} new).")
        proposals = demo.seed_proposals()
        self.stdout.write(f"Specification proposals: {proposals} new.")
        # The planning story: history, capacity, promotions, then one full recompute.
        from demand import demo as demand_demo
        from production import demo as production_demo

        sales = demand_demo.seed_sales()
        self.stdout.write(f"Weekly sales rows: {sales['rows']} ({sales['created']} new).")
        self.stdout.write(f"Past forecasts for accuracy: {demand_demo.seed_backtest()} new rows.")
        rates = production_demo.seed_capacity()
        self.stdout.write(f"Run rates: {rates['run_rates']} ({rates['created']} new).")
        self.stdout.write(f"Inventory counts: {production_demo.seed_inventory()} new.")
        production_demo.seed_shutdown()
        if production_demo.seed_rush_order():
            self.stdout.write("Rush order: 1 new accepted customization for Carton 3.")
        upcoming = demand_demo.seed_upcoming_promotions()
        self.stdout.write(f"Upcoming promotions: {len(upcoming)} new.")
        self.stdout.write(f"Recompute runs: {production_demo.recompute_everything()}.")
        self.stdout.write(f"Accepted quotas: {production_demo.accept_first_weeks()} new.")
        # Recalls last: a stop-ship holds the plan and promotions seeded above.
        from recalls import demo as recalls_demo

        recalls = recalls_demo.seed_recalls()
        self.stdout.write(f"Recalls: {recalls['recalls']} ({recalls['created']} new).")
        # The planning review last: its snapshots take in everything seeded above.
        from coordination.demo_planning import seed_planning

        cycles = seed_planning()
        self.stdout.write(f"Planning cycles: {cycles['cycles']} ({cycles['created']} new).")
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
