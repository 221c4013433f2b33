"""The long API fuzz: run it before resolving API work.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tandem \\
        .venv/bin/python bench/fuzz_api.py [--examples 200] [--hostile 200] [--seed N] \\
        [--only SUBSTRING]

The same fuzzing as the suite's tests/test_api_schema_fuzz.py (tests/api_fuzz.py) with
many more cases per operation and, unless --seed is given, a random seed each run, so
every run explores new inputs: --examples schema cases (valid and malformed, checked
against the schema) and --hostile hostile cases (NUL characters, `%` signs, odd unicode,
far dates, numbers beyond the database's ranges; never a 5xx) per operation, as an
administrator, in-process against the WSGI app on PostgreSQL, where NUL characters and
integer overflows show up. --only keeps the operations whose path contains SUBSTRING.

The DATABASE_URL only names the server: the script creates its own database
(`tandem_bench_fuzz`), migrates it, seeds a little of everything, and drops it at the
end (bench/_database.py). Every failure is counted and the run goes on; it prints, per
operation, the cases run and the failures, then each distinct failure once, and exits 1
if there was any.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import time
from collections import Counter

from _database import bench_database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200, help="schema cases per operation")
    parser.add_argument("--hostile", type=int, default=200, help="hostile cases per operation")
    parser.add_argument("--seed", type=int, help="repeat a run (default: a random seed)")
    parser.add_argument("--only", default="", help="operations whose path contains this")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    # Plain http in-process, as the suite's fuzz: with DEBUG off every case would
    # otherwise be redirected to https (3xx) and never reach a view.
    os.environ["SECURE_SSL_REDIRECT"] = "false"

    with bench_database("tandem_bench_fuzz"):
        from django.conf import settings
        from django.core.cache import cache
        from hypothesis import seed as hypothesis_seed

        # The fuzz measures the API, not its throttle; webhooks stay on this machine.
        settings.API_THROTTLE_RATES = {"client": "1000000/min", "user": "1000000/min"}
        # Only failures are logged (a 500 is one); 4xx answers are the expected outcome.
        logging.getLogger("django.request").setLevel(logging.ERROR)
        # No collectstatic here: error pages must not fail for want of the manifest.
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        from django.contrib.auth import get_user_model
        from rest_framework.authtoken.models import Token

        from tests.api_fuzz import fuzz, load_schema, seed_data

        admin = get_user_model().objects.create_superuser("fuzz-admin", "fuzz@example.com", None)
        headers = {"Authorization": f"Token {Token.objects.create(user=admin).key}"}
        known = seed_data(admin)
        schema, operations = load_schema()
        operations = [op for op in operations if args.only in op[0]]
        print(
            f"seed {seed}: {len(operations)} operations, {args.examples} schema + "
            f"{args.hostile} hostile cases each, PostgreSQL",
            flush=True,
        )
        print(f"{'operation':<66} {'kind':<7} {'cases':>6} {'failures':>8} {'seconds':>8}  answers")
        distinct: Counter[str] = Counter()
        totals = Counter()
        started = time.perf_counter()
        for path, method in operations:
            for kind, examples in (("schema", args.examples), ("hostile", args.hostile)):
                if examples <= 0:
                    continue

                run = hypothesis_seed(seed)(fuzz)
                outcome = run(
                    schema,
                    path,
                    method,
                    headers=headers,
                    max_examples=examples,
                    hostile=kind == "hostile",
                    derandomize=False,
                    keep_going=True,
                    before_case=cache.clear,
                    known=known,
                )
                totals["cases"] += outcome.cases
                totals["failures"] += len(outcome.failures)
                for failure in outcome.failures:
                    distinct[f"{method} {path} ({kind}): {failure}"] += 1
                for status_class, count in outcome.statuses.items():
                    totals[status_class] += count
                answers = " ".join(f"{k} {v}" for k, v in sorted(outcome.statuses.items()))
                print(
                    f"{method + ' ' + path:<66} {kind:<7} {outcome.cases:>6} "
                    f"{len(outcome.failures):>8} {outcome.seconds:>8.1f}  {answers}",
                    flush=True,
                )
        minutes = (time.perf_counter() - started) / 60
        print(
            f"\n{totals['cases']:,} cases, {totals['failures']:,} failures "
            f"({len(distinct)} distinct) in {minutes:.1f} min (seed {seed}); answers: "
            + ", ".join(f"{k} {totals[k]:,}" for k in sorted(totals) if k.endswith("xx"))
        )
        for failure, count in distinct.most_common():
            print(f"\n[{count}x] {failure}")
    return 1 if totals["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
