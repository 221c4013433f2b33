"""OpenAPI: every operation documents the error bodies it can answer.

The exception handler (coordination.api_support) gives every error the same body, the
`Error` component; this schema class adds it, for the statuses an operation can answer,
to what each view declares: 400 bad input, 401 no or bad credentials, 403 role or scope
missing, 404 for paths naming an object, 409 for writes (stale edit), 429 throttled.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

_DESCRIPTIONS = {
    "400": "Bad input: `fields` maps each invalid field to its messages.",
    "401": "No credentials, or an unknown, rotated or revoked key.",
    "403": "Signed in, but the role or the API key's scopes do not allow this.",
    "404": "Not found.",
    "409": "The record was changed by someone else (stale edit) or the state forbids it.",
    "429": "Too many requests: wait the seconds in the Retry-After header.",
}


class TandemAutoSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403"]
        if "{" in self.path:
            codes.append("404")
        if self.method not in ("GET", "HEAD", "OPTIONS"):
            codes.append("409")
        codes.append("429")
        return codes

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
