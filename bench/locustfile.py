"""The users of bench/load_test.py (run by it through `locust --headless`; not alone).

- ScheduleClient: a REST client pulling the whole schedule page by page with its API key
  (`Authorization: Bearer ...`), as an ERP mirror does, then the load per line.
- PlannerInBrowser: a person signed in (session + CSRF, as the browser does) opening the
  pages their home leads to: the production dashboard of each line, forecasts,
  promotions, requests and the planning review.
- Marketer: saves promotions through the API, one every few seconds, until it has saved
  LOAD_PROMOTIONS of them; each asks for a re-plan that the Celery worker must finish.

The bench passes, through the environment: LOAD_API_KEY, LOAD_MARKETING_KEY,
LOAD_LINES (comma-separated line ids), LOAD_PRODUCTS (SKUs a promotion may take),
LOAD_PROMOTIONS, LOAD_PASSWORD (the demo users' password).
"""

from __future__ import annotations

import itertools
import os
import re

from locust import HttpUser, between, constant_pacing, task

LINES = [int(pk) for pk in os.environ.get("LOAD_LINES", "").split(",") if pk]
PRODUCTS = [sku for sku in os.environ.get("LOAD_PRODUCTS", "").split(",") if sku]
PROMOTIONS = int(os.environ.get("LOAD_PROMOTIONS", "20"))
SAVED = itertools.count()
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class ScheduleClient(HttpUser):
    weight = 50
    wait_time = between(0.5, 1.5)

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {os.environ['LOAD_API_KEY']}"

    @task(4)
    def full_pull(self):
        url = "/api/v1/schedules/?page_size=1000"
        while url:
            response = self.client.get(url, name="GET /api/v1/schedules/ (page)")
            if response.status_code != 200:
                return
            url = response.json().get("next")

    @task(1)
    def load(self):
        for line in LINES:
            self.client.get(
                f"/api/v1/schedules/load/?line={line}", name="GET /api/v1/schedules/load/"
            )


class PlannerInBrowser(HttpUser):
    weight = 10
    wait_time = between(1, 3)

    def on_start(self):
        page = self.client.get("/accounts/login/", name="GET /accounts/login/")
        token = CSRF.search(page.text).group(1)
        self.client.post(
            "/accounts/login/",
            {"username": "production", "password": os.environ["LOAD_PASSWORD"],
             "csrfmiddlewaretoken": token},
            headers={"Referer": self.host + "/accounts/login/"},
            name="POST /accounts/login/",
        )  # fmt: skip

    @task(4)
    def dashboard(self):
        for line in LINES:
            self.client.get(f"/production/?line={line}", name="GET /production/?line=")

    @task(1)
    def home_and_lists(self):
        for path in ("/", "/forecasts/", "/promotions/", "/requests/", "/planning/"):
            self.client.get(path, name=f"GET {path}")


class Marketer(HttpUser):
    weight = 1
    fixed_count = 1
    # A save every 2.5 s, however long the save itself takes (a wait of 2.5 s after each
    # left the 20th save outside the 60 s when saves took a second under load).
    wait_time = constant_pacing(2.5)

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {os.environ['LOAD_MARKETING_KEY']}"

    @task
    def save_promotion(self):
        n = next(SAVED)
        if n >= PROMOTIONS:
            return
        sku = PRODUCTS[n % len(PRODUCTS)]
        self.client.post(
            "/api/v1/promotions/",
            json={
                "name": f"Load test promotion {n + 1}",
                "channel": "retail",
                "discount_pct": "15",
                "start_week": os.environ["LOAD_START_WEEK"],
                "end_week": os.environ["LOAD_END_WEEK"],
                "status": "confirmed",
                "items": [{"product": sku, "expected_lift_pct": 40}],
            },
            name="POST /api/v1/promotions/",
        )
