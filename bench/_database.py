"""A benchmark's own PostgreSQL database: created and migrated before, dropped after.

    with bench_database("tandem_bench_x") as url:
        ...  # Django is set up on the new database; `url` points at it

DATABASE_URL only names the server. The benchmark never touches the dev or test
database: it creates its own (dropping a leftover one of the same name first), points
DATABASE_URL at it, sets Django up and migrates, and drops it at the end, also when the
benchmark fails.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def server_connection(url: str):
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    return connection


def recreate_database(url: str, name: str) -> None:
    connection = server_connection(url)  # autocommit: no `with`, which opens a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
            cursor.execute(f"CREATE DATABASE {name}")
    finally:
        connection.close()


def drop_database(url: str, name: str) -> None:
    connection = server_connection(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
    finally:
        connection.close()


@contextmanager
def bench_database(name: str, *, keep: bool = False) -> Iterator[str]:
    """Create `name` on DATABASE_URL's server, set Django up on it and migrate; yield
    the database's URL; close Django's connections and drop the database at the end
    (unless `keep`: then it stays, to look into what the benchmark measured)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL=postgres://... : the benchmark measures PostgreSQL.")
    bench_url = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))

    recreate_database(url, name)
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("SECRET_KEY", "bench-" + "k" * 60)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coordination.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        yield bench_url
    finally:
        from django.db import connections

        connections.close_all()
        if keep:
            print(f"kept the database {name}", file=sys.stderr)
        else:
            drop_database(url, name)
