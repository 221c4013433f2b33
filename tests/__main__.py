"""The whole test command: `python -m tests` from the project root.

Runs, stopping at the first failure: ruff lint, ruff format check, the import-linter
layers contract (apps depend one way), a check that every
model change has a committed migration, Django's system checks, the OpenAPI schema
(generated, validated, no warnings), then pytest (extra arguments go to pytest).
Used by the README's test command and by .ci/run.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(pytest_args: list[str]) -> int:
    env = dict(os.environ)
    # A throwaway key, so the suite also runs in production mode (DEBUG off).
    env.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    python = sys.executable
    steps = [
        ("ruff check", [python, "-m", "ruff", "check", "."]),
        ("ruff format --check", [python, "-m", "ruff", "format", "--check", "."]),
        # The layers contract in pyproject.toml: no app imports an app above it.
        ("lint-imports (apps depend one way)", [str(Path(python).with_name("lint-imports"))]),
        (
            "migrations are committed",
            [python, "manage.py", "makemigrations", "--check", "--dry-run"],
        ),
        ("django system checks", [python, "manage.py", "check", "--fail-level", "WARNING"]),
        (
            "OpenAPI schema validates without warnings",
            [
                python,
                "manage.py",
                "spectacular",
                "--validate",
                "--fail-on-warn",
                "--file",
                os.devnull,
            ],
        ),
        ("pytest", [python, "-m", "pytest", *pytest_args]),
    ]
    for title, command in steps:
        print(f"\n=== {title}: {' '.join(command[1:])}", flush=True)
        result = subprocess.run(command, cwd=ROOT, env=env, check=False)
        if result.returncode != 0:
            print(f"\n=== FAILED: {title} (exit code {result.returncode})", flush=True)
            return result.returncode
    print("\n=== all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
