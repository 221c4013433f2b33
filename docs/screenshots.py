"""Regenerate the screenshots in docs/screenshots/ (the README's "Pages to visit first").

Run it against a Tandem loaded with the demo data, ideally a fresh one:

    .venv/bin/python manage.py migrate && .venv/bin/python manage.py seed_demo
    .venv/bin/python manage.py runserver 127.0.0.1:8000
    .venv/bin/python docs/screenshots.py http://127.0.0.1:8000

Options: --out DIR (default docs/screenshots next to this file), --browser PATH (default
/usr/bin/chromium when it exists, otherwise Playwright's own Chromium, which
`playwright install chromium` downloads). Playwright comes with the dev extra
(`pip install -e ".[dev]"`).

It signs in as each demo user (password tandem-demo), finds the demo's pages by following
links (so it needs no database ids), and saves 1300-pixel-wide PNGs, cut at
MAX_HEIGHT pixels so each file stays small.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urljoin

from playwright.sync_api import Page, sync_playwright

PASSWORD = "tandem-demo"  # noqa: S105 - the published password of the demo users
WIDTH = 1300
MAX_HEIGHT = 1700
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
PROMOTION = "New year fitness: sports drinks"  # built ahead of a canning shutdown
MONEY_PROMOTION = "Juice shelf blitz: litre cartons"  # loses money once displacement counts
RUSH_ORDER = "Rush order for the Metro Foods store openings"
FORECAST_SKU = "TEA-LEM-05"  # in the winter iced-tea promotion

# On a promotion's page: the quota cell of the first product production builds ahead.
FIRST_PREBUILD_CELL = """() => {
  for (const row of document.querySelectorAll(".impact-row")) {
    const built = row.textContent.match(/built ahead in (\\d{4}-W\\d\\d)/);
    if (built) {
      const sku = row.querySelector("h3").firstChild.textContent.trim();
      return `/production/quota/${sku}/${built[1]}/`;
    }
  }
  return null;
}"""


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(urljoin(base, "/accounts/login/"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")


def shoot(page: Page, base: str, path: str, out: Path, max_height: int = MAX_HEIGHT) -> str:
    """Open `path` (relative to `base`), wait for its htmx loads, save `out`."""
    page.goto(urljoin(base, path))
    page.wait_for_load_state("networkidle")
    height = min(page.evaluate("document.documentElement.scrollHeight"), max_height)
    page.screenshot(
        path=str(out), full_page=True, clip={"x": 0, "y": 0, "width": WIDTH, "height": height}
    )
    print(f"{out.name:28} {path}  ({out.stat().st_size // 1024} KB)")
    return page.url


def shoot_new_calendar_address(page: Page, base: str, out: Path) -> None:
    """The calendar feed page as it shows a new address (only the answer to the button
    shows it): a demo user's old address, if any, is replaced."""
    page.goto(urljoin(base, "/accounts/calendar/"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("form[action$='/calendar/new/'] button")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(out), full_page=True)
    print(f"{out.name:28} /accounts/calendar/  ({out.stat().st_size // 1024} KB)")


def href(page: Page, base: str, path: str, selector: str) -> str:
    """The href of the first element matching `selector` on page `path`."""
    page.goto(urljoin(base, path))
    link = page.locator(selector).first
    value = link.get_attribute("href") if link.count() else None
    if not value:
        sys.exit(f"Not found on {path}: {selector}. Is the demo data loaded (seed_demo)?")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="where Tandem runs, e.g. http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "screenshots")
    parser.add_argument("--browser", help="a Chromium executable")
    args = parser.parse_args()
    base = args.base.rstrip("/") + "/"
    args.out.mkdir(parents=True, exist_ok=True)
    executable = args.browser or (str(SYSTEM_CHROMIUM) if SYSTEM_CHROMIUM.exists() else None)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )

        def session(username: str | None) -> Page:
            context = browser.new_context(viewport={"width": WIDTH, "height": 900})
            page = context.new_page()
            if username:
                sign_in(page, base, username)
            return page

        pages = {name: session(name) for name in ("marketing", "sales", "production", "quality")}
        for name, page in pages.items():
            shoot(page, base, "/", args.out / f"home-{name}.png")

        marketing = pages["marketing"]
        promotion = href(marketing, base, "/promotions/", f'a:text-is("{PROMOTION}")')
        shoot(marketing, base, promotion, args.out / "promotion-detail.png")
        blitz = href(marketing, base, "/promotions/", f'a:text-is("{MONEY_PROMOTION}")')
        shoot(
            marketing, base, f"/production{blitz}economics/", args.out / "promotion-economics.png"
        )
        shoot(marketing, base, f"/forecasts/{FORECAST_SKU}/", args.out / "forecast-detail.png")
        shoot(marketing, base, "/profile/", args.out / "profile.png")

        production = pages["production"]
        shoot(production, base, "/production/", args.out / "production-dashboard.png")
        # The first week built ahead for the promotion, explained term by term.
        marketing.goto(urljoin(base, promotion))
        marketing.wait_for_load_state("networkidle")
        cell = marketing.evaluate(FIRST_PREBUILD_CELL)
        if cell is None:
            sys.exit(f"No pre-build on the page of “{PROMOTION}”. Is the demo data loaded?")
        shoot(production, base, cell, args.out / "quota-explanation.png")

        sales = pages["sales"]
        request = href(sales, base, f"/requests/?q={RUSH_ORDER}", 'td a[href^="/requests/"]')
        shoot(sales, base, request, args.out / "request-detail.png")

        # The cycle in review (the list shows the newest first).
        cycle = href(production, base, "/planning/?status=in_review", 'td a[href^="/planning/"]')
        shoot(production, base, cycle, args.out / "planning-cycle.png")

        quality = pages["quality"]
        recall = href(quality, base, "/recalls/", 'a[href^="/recalls/RC-"]')
        shoot(quality, base, recall, args.out / "recall-detail.png")
        notice = href(quality, base, recall, 'a[href*="/recall-notices/"]')
        shoot(session(None), base, notice, args.out / "public-notice.png")
        shoot_new_calendar_address(pages["marketing"], base, args.out / "calendar-feed.png")
        browser.close()


if __name__ == "__main__":
    main()
