"""Reads about customer requests: what each role may see, inboxes, firm demand and
the voice of the customer."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from coordination import roles
from coordination.models import CustomerRequest, Department

OPEN = ~Q(status__in=CustomerRequest.CLOSED_STATUSES)


def visible_requests(user) -> QuerySet[CustomerRequest]:
    """Sales, Marketing and Admin see every request; other roles see the requests routed
    to their department, assigned to them or logged by them, and Production the
    customizations whose feasibility it answered."""
    requests = CustomerRequest.objects.select_related(
        "product", "assignee", "created_by", "product__product_line"
    )
    if not user.is_authenticated:
        return requests.none()
    if user.has_perm("coordination.view_all_requests"):
        return requests
    if not user.has_perm("coordination.view_customerrequest"):
        return requests.none()
    departments = roles.departments_of(user)
    visible = Q(department__in=departments) | Q(assignee=user) | Q(created_by=user)
    if Department.PRODUCTION in departments:
        # Production answers feasibility and the request goes back to Sales: Production
        # keeps seeing what it answered.
        visible |= Q(feasible__isnull=False)
    return requests.filter(visible)


def filter_requests(
    requests: QuerySet[CustomerRequest],
    *,
    status: str = "",
    kind: str = "",
    product_id=None,
    department: str = "",
    overdue: bool = False,
    open_only: bool = False,
    search: str = "",
    updated_since: dt.datetime | None = None,
) -> QuerySet[CustomerRequest]:
    if status:
        requests = requests.filter(status=status)
    if kind:
        requests = requests.filter(kind=kind)
    if product_id:
        requests = requests.filter(product_id=product_id)
    if department:
        requests = requests.filter(department=department)
    if open_only or overdue:
        requests = requests.filter(OPEN)
    if overdue:
        requests = requests.filter(due_date__lt=timezone.localdate())
    if search:
        requests = requests.filter(
            Q(customer_name__icontains=search)
            | Q(customer_account__icontains=search)
            | Q(summary__icontains=search)
        )
    if updated_since:
        requests = requests.filter(updated_at__gte=updated_since)
    return requests


def my_requests(user) -> QuerySet[CustomerRequest]:
    return (
        CustomerRequest.objects.filter(Q(created_by=user) | Q(assignee=user))
        .select_related("product", "assignee")
        .order_by("status", "due_date", "-id")
    )


def department_inbox(department: str) -> QuerySet[CustomerRequest]:
    """Open requests routed to a department, most urgent first."""
    return (
        CustomerRequest.objects.filter(OPEN, department=department)
        .select_related("product", "assignee", "created_by")
        .order_by("due_date", "-priority", "id")
    )


def request_detail(user, pk: int) -> CustomerRequest:
    return visible_requests(user).prefetch_related("cited_by_specifications__product").get(pk=pk)


def recent_customers(limit: int = 50) -> list[str]:
    """Customer names for the log form's autocomplete, most recent first."""
    names = CustomerRequest.objects.order_by("-created_at").values_list("customer_name", flat=True)[
        : limit * 4
    ]
    return list(dict.fromkeys(names))[:limit]


def firm_orders(
    *, product_ids=None, start: dt.date | None = None, end: dt.date | None = None
) -> list[dict]:
    """Accepted customizations as firm demand: product, week, units, request id.

    The demand engine adds these to the forecast of their wanted week."""
    rows = CustomerRequest.objects.filter(
        status=CustomerRequest.Status.ACCEPTED,
        kind=CustomerRequest.Kind.CUSTOMIZATION,
        product__isnull=False,
        quantity__isnull=False,
        wanted_week__isnull=False,
    )
    if product_ids is not None:
        rows = rows.filter(product_id__in=list(product_ids))
    if start is not None:
        rows = rows.filter(wanted_week__gte=start)
    if end is not None:
        rows = rows.filter(wanted_week__lte=end)
    return [
        {"product_id": product_id, "week": week, "units": units, "request_id": pk}
        for product_id, week, units, pk in rows.order_by(
            "product_id", "wanted_week", "id"
        ).values_list("product_id", "wanted_week", "quantity", "id")
    ]


def voice_of_customer(
    *, since: dt.date, line_id=None, product_id=None, group_by: str = "product"
) -> dict:
    """Counts of requests by kind per product (or per line) and the quality-vs-price
    preference split per month, since a date."""
    requests = CustomerRequest.objects.filter(created_at__date__gte=since)
    if line_id:
        requests = requests.filter(product__product_line_id=line_id)
    if product_id:
        requests = requests.filter(product_id=product_id)
    key = "product__product_line__name" if group_by == "line" else "product__sku"
    kinds = list(CustomerRequest.Kind.values)
    table: dict[str, dict] = defaultdict(lambda: {"kinds": dict.fromkeys(kinds, 0), "total": 0})
    id_key = "product__product_line_id" if group_by == "line" else "product_id"
    ids: dict[str, int | None] = {}
    for row in requests.values(key, id_key, "kind").annotate(n=Count("id")):
        name = row[key] or "No product"
        ids[name] = row[id_key]
        table[name]["kinds"][row["kind"]] += row["n"]
        table[name]["total"] += row["n"]
    rows = [
        {"name": name, "id": ids[name], "total": data["total"], "kinds": data["kinds"]}
        for name, data in sorted(table.items(), key=lambda item: (-item[1]["total"], item[0]))
    ]
    months: dict[dt.date, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(CustomerRequest.Preference.values, 0)
    )
    monthly = (
        requests.annotate(month=TruncMonth("created_at"))
        .values("month", "preference")
        .annotate(n=Count("id"))
    )
    for row in monthly:
        month = row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]
        months[month][row["preference"]] += row["n"]
    return {
        "rows": rows,
        "kinds": kinds,
        "preference_by_month": [
            {"month": month, **counts} for month, counts in sorted(months.items())
        ],
        "total": sum(row["total"] for row in rows),
    }
