import pytest

from backend.catalog.models import ServiceType


@pytest.mark.django_db
def test_default_catalog_has_the_twelve_services(catalog: None) -> None:
    codes = set(ServiceType.objects.values_list("service_code", flat=True))
    assert codes == {
        "pothole",
        "streetlight",
        "graffiti",
        "illegal_dumping",
        "abandoned_vehicle",
        "missed_collection",
        "sidewalk_damage",
        "tree_hazard",
        "traffic_signal",
        "water_leak",
        "rodents",
        "dead_animal",
    }
