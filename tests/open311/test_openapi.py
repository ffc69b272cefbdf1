"""The served OpenAPI document describes every Open311 operation in both formats."""

from __future__ import annotations

import pytest
import yaml
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

RESOURCES = {
    "discovery": {"get"},
    "services": {"get"},
    "services/{service_code}": {"get"},
    "requests": {"get", "post"},
    "requests/{service_request_id}": {"get"},
    "tokens/{token}": {"get"},
    "servicerequestupdates": {"get", "post"},
}


def test_every_resource_in_both_formats(api: APIClient) -> None:
    document = yaml.safe_load(api.get("/api/schema/").content)
    paths = document["paths"]
    operation_ids = set()
    for resource, methods in RESOURCES.items():
        for fmt, media_type in (("json", "application/json"), ("xml", "text/xml")):
            path = f"/open311/v2/{resource}.{fmt}"
            assert set(paths[path]) == methods, path
            for method in methods:
                operation = paths[path][method]
                operation_ids.add(operation["operationId"])
                assert set(operation["responses"]["200"]["content"]) == {media_type}
                for status, response in operation["responses"].items():
                    if status != "200":
                        assert set(response["content"]) == {media_type}, (path, status)
    assert len(operation_ids) == 18
    post = paths["/open311/v2/requests.json"]["post"]
    assert set(post["requestBody"]["content"]) == {
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }
    assert {"403", "404", "400", "413"} <= set(post["responses"])
    request = document["components"]["schemas"]["Open311RequestOut"]["properties"]
    assert {"status_notes", "expected_datetime", "media_url", "notes"} <= set(request)
    assert not {"email", "phone", "first_name", "contact_email"} & set(request)
