"""OpenAPI: every operation documents the error bodies it can answer, and every create
the `Idempotency-Key` header it honours.

The exception handler (coordination.api.support) gives every error the same body, the
`Error` component; this schema class adds it, for the statuses an operation can answer,
to what each view declares: 400 bad input, 401 no or bad credentials, 403 role or scope
missing, 404 for paths naming an object, 409 for writes (stale edit), 422 for a reused
Idempotency-Key, 429 throttled. Operations marked `api_support.idempotent` get the one
reusable header parameter, `#/components/parameters/IdempotencyKey`.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse

from coordination.api.support import IDEMPOTENCY_HEADER, REPLAYED_HEADER, is_idempotent

_DESCRIPTIONS = {
    "400": "Bad input: `fields` maps each invalid field to its messages.",
    "401": "No credentials, or an unknown, rotated or revoked key.",
    "403": "Signed in, but the role or the API key's scopes do not allow this.",
    "404": "Not found.",
    "409": "The record was changed by someone else (stale edit) or the state forbids it.",
    "422": f"The `{IDEMPOTENCY_HEADER}` was used before with another request (another "
    "method, path or body): nothing was done; send a new key for a new request.",
    "429": "Too many requests: wait the seconds in the Retry-After header.",
}

IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": IDEMPOTENCY_HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": (
        "Makes a retry safe: send a new unique value (a UUID) with each create, and the "
        "same value when you send the same request again (after a timeout or a lost "
        "connection). Within 24 hours, the same key with the same body from the same "
        "caller answers the first answer again (its status and body, with "
        f"`{REPLAYED_HEADER}: true`) and creates nothing, even when both arrive at once; "
        "the same key with another body is a 422. A refused request (4xx) keeps nothing, "
        "so it may be corrected and sent again with its key."
    ),
}


class TandemAutoSchema(AutoSchema):
    def _handler(self):
        return getattr(self.view, getattr(self.view, "action", None) or self.method.lower(), None)

    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403"]
        if "{" in self.path:
            codes.append("404")
        if self.method not in ("GET", "HEAD", "OPTIONS"):
            codes.append("409")
        if is_idempotent(self._handler()):
            codes.append("422")
        codes.append("429")
        return codes

    def _get_parameters(self):
        parameters = super()._get_parameters()
        if is_idempotent(self._handler()):
            component = ResolvedComponent(
                name="IdempotencyKey",
                type=ResolvedComponent.PARAMETER,
                object=IDEMPOTENCY_HEADER,
                schema=IDEMPOTENCY_PARAMETER,
            )
            self.registry.register_on_missing(component)
            parameters.append(component.ref)
        return parameters

    def _get_response_bodies(self, direction="response"):
        from coordination.serializers import ErrorSerializer  # views load this module early

        responses = super()._get_response_bodies(direction=direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code]),
                    code,
                    media_types=["application/json"],  # errors are JSON even for CSV
                    direction=direction,
                )
        return responses
