"""The API's error body (coordination.api.support), as the tests expect it."""

NOT_ALLOWED = {
    "error": {
        "code": "permission_denied",
        "message": "You do not have permission to perform this action.",
        "fields": {},
    }
}
NOT_SIGNED_IN = {
    "error": {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
        "fields": {},
    }
}


def invalid(fields: dict) -> dict:
    return {
        "error": {
            "code": "invalid",
            "message": "Some fields are not valid; see fields.",
            "fields": fields,
        }
    }


def refused(message: str, code: str = "invalid") -> dict:
    fields = {"non_field_errors": [message]} if code == "invalid" else {}
    return {"error": {"code": code, "message": message, "fields": fields}}
