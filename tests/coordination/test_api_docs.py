"""The OpenAPI schema and its Swagger UI, served offline."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_schema_documents_bearer_keys_errors_and_schedule_examples(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"error"}
    schedule = schema["paths"]["/api/v1/schedules/"]["get"]
    assert {"apiKey": []} in schedule["security"]
    assert set(schedule["responses"]) == {"200", "304", "400", "401", "403", "429"}
    for code in ("400", "401", "403", "429"):
        assert schedule["responses"][code]["content"] == {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
        }
    content = schedule["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/csv"}
    assert len(content["application/json"]["examples"]) == 2
    assert "CSV" in content["text/csv"]["examples"]
    # Objects named in the path can be missing; writes can be stale.
    product = schema["paths"]["/api/v1/products/{sku}/"]["get"]["responses"]
    assert "404" in product


def test_swagger_ui_is_served_without_any_cdn_or_inline_code(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    for outside in ("cdn", "unpkg", "jsdelivr", "https://", "http://"):
        assert outside not in html, outside
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    # Under the Content-Security-Policy: the start-up script and the styles are files.
    assert "<style" not in html
    assert html.count("<script") == html.count("<script src=") == 3
    assert '<script src="/api/docs/?script="></script>' in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"] == "application/javascript"
    assert 'url: "/api/schema/"' in script.content.decode()
