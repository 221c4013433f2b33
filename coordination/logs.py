"""Logging filters the settings' LOGGING uses."""

from __future__ import annotations

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """Django logs a refused request (403 PermissionDenied, 404 Http404, 400 bad input)
    with the exception attached, so every refusal printed a whole traceback. A 4xx is the
    app answering as designed: one line says it; tracebacks stay for 5xx."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
