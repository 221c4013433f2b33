"""Coordination master data, one module per domain: people, products and their
specifications (with product lines and production lines), customer requests, the
activity timeline and notices, the recompute outbox, API clients, and e-mail notifications.

Models hold fields, constraints and cheap properties. Every workflow step lives in
coordination/services/. Import them from here: `from coordination.models import Product`.
"""

from coordination.models.activity import ActivityEvent, Notice
from coordination.models.api_clients import ApiClient, IdempotencyKey
from coordination.models.calendar_feeds import CalendarFeed
from coordination.models.notifications import EmailKind, EmailNotification, EmailPreference
from coordination.models.people import Department, User
from coordination.models.products import (
    SKU_VALIDATOR,
    Line,
    Product,
    ProductLine,
    ProductPrice,
    SalesChannel,
    Specification,
)
from coordination.models.recompute import RecomputeRequest
from coordination.models.requests import CustomerRequest

__all__ = [
    "SKU_VALIDATOR",
    "ActivityEvent",
    "ApiClient",
    "CalendarFeed",
    "CustomerRequest",
    "Department",
    "EmailKind",
    "EmailNotification",
    "EmailPreference",
    "IdempotencyKey",
    "Line",
    "Notice",
    "Product",
    "ProductLine",
    "ProductPrice",
    "RecomputeRequest",
    "SalesChannel",
    "Specification",
    "User",
]
