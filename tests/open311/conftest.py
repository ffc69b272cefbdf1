"""Fixtures and checks for the Open311 tests: API keys, the community JSON Schemas of
GeoReport v2 (../shared/open311/schemas) and the XML-to-JSON comparison."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from defusedxml.ElementTree import fromstring
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from rest_framework.test import APIClient

from backend.open311.renderers import SINGULAR
from backend.open311.services import api_key_create, precheck_catalog_clear
from tests.openapi import assert_matches_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT.parent / "shared" / "open311" / "schemas"
BASE = "/open311/v2/"
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"


def _registry() -> Registry:
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text()), DRAFT7))
        for path in sorted(SCHEMAS.glob("*.json"))
    ]
    assert len(resources) == 5, f"the shared schemas are missing from {SCHEMAS}"
    registry: Registry = Registry().with_resources(resources)
    return registry


REGISTRY = _registry()


def georeport_validate(data: Any, schema: str) -> None:
    """Validates against a community schema (``services``, ``service-definition``,
    ``requests``, ``request``), formats (date-time, uri) included."""
    contents = REGISTRY.contents(f"{schema}.json")
    validator = jsonschema.Draft7Validator(
        contents, registry=REGISTRY, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    validator.validate(data)
    if isinstance(data, list) and schema == "requests":
        # The items' $ref sits beside minItems, which some validators skip: check each one.
        for item in data:
            georeport_validate(item, "request")


def openapi_validate(data: Any, *, path: str, method: str = "get", status: int = 200) -> None:
    assert_matches_schema(data, path=path, method=method, status=status)


# --- XML


def xml_parse(content: bytes) -> Any:
    return fromstring(content)


def _compare(element: Any, value: Any, name: str) -> None:
    where = f"<{element.tag}> ({name})"
    if isinstance(value, dict):
        children = list(element)
        tags = [child.tag for child in children]
        assert len(tags) == len(set(tags)), f"{where}: repeated elements {tags}"
        present = {key for key, item in value.items() if item is not None}
        assert set(tags) == present, f"{where}: elements {sorted(tags)} != fields {sorted(present)}"
        # Same order as the JSON object's keys.
        assert tags == [key for key in value if key in present], where
        for child in children:
            _compare(child, value[child.tag], child.tag)
    elif isinstance(value, list):
        children = list(element)
        assert [child.tag for child in children] == [SINGULAR[name]] * len(value), where
        for child, item in zip(children, value, strict=True):
            _compare(child, item, child.tag)
    else:
        assert len(element) == 0, f"{where} has children"
        text = element.text or ""
        if isinstance(value, bool):
            assert text == ("true" if value else "false"), where
        elif isinstance(value, float):
            assert float(text) == value, where
        else:
            assert text == str(value), f"{where}: {text!r} != {value!r}"


def assert_xml_twin(xml: bytes, data: Any, *, root: str, item: str = "") -> None:
    """The XML answer carries exactly the JSON answer's fields, with the spec's names."""
    tree = xml_parse(xml)
    assert tree.tag == root
    if isinstance(data, list):
        children = list(tree)
        assert [child.tag for child in children] == [item] * len(data)
        for child, entry in zip(children, data, strict=True):
            _compare(child, entry, item)
    else:
        _compare(tree, data, root)


# --- Fixtures


@pytest.fixture(autouse=True)
def _fresh_precheck_catalog() -> Iterator[None]:
    precheck_catalog_clear()
    yield
    precheck_catalog_clear()


@pytest.fixture
def open311_key(db: None) -> str:
    return api_key_create(name="partner app", channel="open311").raw


@pytest.fixture
def chat_key(db: None) -> str:
    return api_key_create(name="chatbot", channel="chat").raw


def get_json(api: APIClient, path: str, **params: Any) -> tuple[int, Any]:
    response = api.get(BASE + path + ".json", params)
    assert response["Content-Type"] == JSON_TYPE
    return response.status_code, json.loads(response.content)


def get_both(api: APIClient, path: str, **params: Any) -> tuple[int, Any, bytes]:
    """The JSON answer and its XML twin (same status)."""
    status, data = get_json(api, path, **params)
    xml = api.get(BASE + path + ".xml", params)
    assert xml["Content-Type"] == XML_TYPE
    assert xml.status_code == status
    return status, data, xml.content


def pothole_form(**overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "service_code": "pothole",
        "lat": "42.3601",
        "long": "-71.0589",
        "description": "Deep hole in the right lane",
        "attribute[size]": "large",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}
