"""Exceptions services raise besides ValidationError and PermissionDenied."""


class StaleEditError(Exception):
    """Someone else changed the object since the user loaded it (optimistic locking).

    Browser views show the message and the current state; the API answers 409."""

    def __init__(self, obj=None, message: str | None = None):
        self.obj = obj
        label = (
            f"{str(obj._meta.verbose_name).capitalize()} {obj}"
            if obj is not None
            else "This record"
        )
        super().__init__(
            message
            or f"{label} was changed by someone else while you were editing it. "
            "Reload to see the current version, then apply your change again."
        )


class IdempotencyKeyReused(Exception):
    """An Idempotency-Key came back with another request than the one it was first sent
    with: the API answers 422 and does nothing."""


class OverCapacityError(Exception):
    """A decision leaves weeks over capacity unconfirmed: browser views ask to confirm it
    with a reason; the API answers 409 `over_capacity` with the weeks (dicts)."""

    def __init__(self, message: str, *, weeks: list[dict], fields: dict | None = None):
        self.weeks = weeks
        self.fields = fields or {}
        super().__init__(message)
