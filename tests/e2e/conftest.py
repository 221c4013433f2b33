"""Browser tests: Playwright drives the system Chromium against pytest-django's live
server. Never a downloaded browser: without /usr/bin/chromium the tests skip (outside
CI) or fail (in CI, where .ci/run installs Debian's chromium package)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.factories import PASSWORD

# Playwright's sync API runs an event loop in this thread, so Django's async-safety check
# would refuse the ORM calls the tests make to build their data.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
TIMEOUT_MS = 10_000


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # Kept on the item so the page fixture can tell, at teardown, that the test failed.
    setattr(item, f"_e2e_report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = (
            f"Chromium not found at {CHROMIUM}: install Debian's chromium package "
            "to run the browser tests"
        )
        if IN_CI:
            pytest.fail(message + " (CI=true: .ci/run installs it)", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _plain_http_cookies(settings):
    # With DEBUG off (as in CI) cookies are Secure; the live server speaks plain HTTP.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


# Reports every Content-Security-Policy violation of every page of a context.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__tandemCspViolation(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"} ` +
      `on ${document.location.pathname} (${event.sourceFile || "the page"}:${event.lineNumber})`
  );
});
"""


def watch_csp(context, violations: list[str]) -> None:
    """Collects CSP violations in `violations`: the page's securitypolicyviolation
    events and Chromium's "Refused to ..." console errors."""

    def report(violation: str) -> None:
        violations.append(violation)

    context.expose_function("__tandemCspViolation", report)
    context.add_init_script(CSP_LISTENER)

    def on_console(message):
        if "Content Security Policy" in message.text or message.text.startswith("Refused to"):
            violations.append(message.text)

    context.on("console", on_console)


@pytest.fixture
def new_page(request, browser, live_server):
    """Opens pages in fresh browser contexts (one per user); on failure, saves a
    screenshot of each under test-artifacts/e2e/<test name>[-<n>].png. Every page runs
    under Tandem's Content-Security-Policy, and any violation fails the test."""
    contexts = []
    violations: list[str] = []

    def make():
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1400, "height": 1000}
        )
        context.set_default_timeout(TIMEOUT_MS)
        watch_csp(context, violations)
        contexts.append(context)
        page = context.new_page()
        # Confirmation dialogs (accept these weeks, ...) are answered yes.
        page.on("dialog", lambda dialog: dialog.accept())
        return page

    yield make
    failed = any(
        getattr(getattr(request.node, f"_e2e_report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )
    if failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        shots = [page for context in contexts for page in context.pages]
        for index, page in enumerate(shots):
            suffix = "" if index == 0 else f"-{index + 1}"
            try:
                page.screenshot(path=str(ARTIFACTS / f"{name}{suffix}.png"), full_page=True)
            except Exception as exc:  # a crashed page must not hide the test's own failure
                print(f"Could not save a screenshot of {page.url}: {exc}")
    for context in contexts:
        context.close()
    if violations:
        pytest.fail(
            "Content-Security-Policy violations:\n" + "\n".join(dict.fromkeys(violations)),
            pytrace=False,
        )


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def login():
    """Signs a user in through the real login form."""

    def sign_in(page, user):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    return sign_in
