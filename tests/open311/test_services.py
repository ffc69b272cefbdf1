"""discovery, services and service definitions: JSON valid against the community schemas and
the OpenAPI document, XML the same fields under the spec's element names."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from backend.catalog.models import ServiceType
from tests.open311.conftest import (
    assert_xml_twin,
    georeport_validate,
    get_both,
    get_json,
    openapi_validate,
)

pytestmark = pytest.mark.django_db


def test_service_list_is_the_active_catalog(catalog: None, api: APIClient) -> None:
    status, data, xml = get_both(api, "services")
    assert status == 200
    georeport_validate(data, "services")
    openapi_validate(data, path="/open311/v2/services.json")
    assert_xml_twin(xml, data, root="services", item="service")
    codes = [s["service_code"] for s in data]
    assert set(codes) == set(
        ServiceType.objects.filter(active=True).values_list("service_code", flat=True)
    )
    pothole = next(s for s in data if s["service_code"] == "pothole")
    assert pothole == {
        "service_code": "pothole",
        "service_name": "Pothole",
        "description": "A hole or sunken patch in the road surface.",
        "metadata": True,
        "type": "realtime",
        "keywords": "pothole, hole, road, street, asphalt, crater",
        "group": "Streets",
    }


def test_an_inactive_service_is_not_listed_and_has_no_definition(
    catalog: None, api: APIClient
) -> None:
    ServiceType.objects.filter(service_code="graffiti").update(active=False)
    _, data = get_json(api, "services")
    assert "graffiti" not in {s["service_code"] for s in data}
    status, errors = get_json(api, "services/graffiti")
    assert status == 404
    assert errors == [{"code": 404, "description": "service_code: There is no service 'graffiti'."}]


def test_service_names_follow_accept_language(catalog: None, api: APIClient) -> None:
    response = api.get("/open311/v2/services.json", HTTP_ACCEPT_LANGUAGE="es")
    pothole = next(s for s in response.json() if s["service_code"] == "pothole")
    assert pothole["service_name"] == "Bache"


def test_definition_lists_attributes_with_values(catalog: None, api: APIClient) -> None:
    status, data, xml = get_both(api, "services/pothole")
    assert status == 200
    georeport_validate(data, "service-definition")
    openapi_validate(data, path="/open311/v2/services/{service_code}.json")
    assert_xml_twin(xml, data, root="service_definition")
    assert data["service_code"] == "pothole"
    size, lane = data["attributes"]
    assert size == {
        "variable": True,
        "code": "size",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "About how big is it?",
        "values": [
            {"key": "small", "name": "Smaller than a dinner plate"},
            {"key": "medium", "name": "Up to a car tyre"},
            {"key": "large", "name": "Bigger than a car tyre"},
        ],
    }
    assert (lane["code"], lane["required"], lane["order"]) == ("lane", False, 2)


@pytest.mark.parametrize("code", ["pothole", "streetlight", "illegal_dumping", "graffiti"])
def test_every_definition_validates(catalog: None, api: APIClient, code: str) -> None:
    status, data, xml = get_both(api, f"services/{code}")
    assert status == 200
    georeport_validate(data, "service-definition")
    assert_xml_twin(xml, data, root="service_definition")
    for attribute in data["attributes"]:
        assert ("values" in attribute) == attribute["datatype"].endswith("valuelist")


def test_unknown_service_is_404_in_both_formats(catalog: None, api: APIClient) -> None:
    status, errors, xml = get_both(api, "services/no-such-thing")
    assert status == 404
    assert errors == [
        {"code": 404, "description": "service_code: There is no service 'no-such-thing'."}
    ]
    assert_xml_twin(xml, errors, root="errors", item="error")


@pytest.mark.parametrize("jurisdiction", ["", "city311"])
def test_our_jurisdiction_or_none_is_accepted(
    catalog: None, api: APIClient, jurisdiction: str
) -> None:
    status, _ = get_json(api, "services", jurisdiction_id=jurisdiction)
    assert status == 200


@pytest.mark.parametrize("path", ["services", "services/pothole", "requests", "requests/SR-1"])
def test_an_unknown_jurisdiction_is_404(catalog: None, api: APIClient, path: str) -> None:
    status, errors, xml = get_both(api, path, jurisdiction_id="springfield")
    assert status == 404
    assert errors == [
        {"code": 404, "description": "jurisdiction_id: This server serves only 'city311'."}
    ]
    assert_xml_twin(xml, errors, root="errors", item="error")


def test_discovery_names_this_endpoint(api: APIClient) -> None:
    status, data, xml = get_both(api, "discovery")
    assert status == 200
    openapi_validate(data, path="/open311/v2/discovery.json")
    assert_xml_twin(xml, data, root="discovery")
    (endpoint,) = data["endpoints"]
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["type"] in {"production", "test"}
