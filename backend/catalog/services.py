"""Writes to the catalog: loading the default catalog shipped as data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from backend.catalog.models import Department, ServiceAttribute, ServiceType

DEFAULT_CATALOG = Path(__file__).resolve().parent / "data" / "default_catalog.json"

_SERVICE_FIELDS = (
    "name",
    "description",
    "group",
    "keywords",
    "turnaround_hours",
    "turnaround_business_hours",
    "default_priority",
    "name_i18n",
    "description_i18n",
    "icon",
    "sensitive_location",
)
_ATTRIBUTE_FIELDS = (
    "datatype",
    "required",
    "variable",
    "order",
    "description",
    "datatype_description",
    "values",
    "description_i18n",
)


@dataclass
class LoadReport:
    departments_created: int = 0
    services_created: int = 0
    services_updated: int = 0
    attributes_created: int = 0


def catalog_load(*, data: dict[str, Any], update: bool = False) -> LoadReport:
    """Creates what is missing. Existing entries are left as staff edited them unless
    ``update`` is set, in which case they are reset to the file's values."""
    report = LoadReport()
    with transaction.atomic():
        departments: dict[str, Department] = {}
        for row in data["departments"]:
            values = {k: row[k] for k in ("name", "contact_email", "time_zone") if k in row}
            department, created = Department.objects.get_or_create(
                code=row["code"], defaults=values
            )
            if not created and update:
                Department.objects.filter(pk=department.pk).update(**values)
            report.departments_created += created
            departments[row["code"]] = department
        for row in data["services"]:
            values = {k: row[k] for k in _SERVICE_FIELDS if k in row}
            values["department"] = departments[row["department"]]
            service, created = ServiceType.objects.get_or_create(
                service_code=row["service_code"], defaults=values
            )
            if created:
                report.services_created += 1
            elif update:
                ServiceType.objects.filter(pk=service.pk).update(**values)
                report.services_updated += 1
            for attr in row.get("attributes", []):
                attr_values = {k: attr[k] for k in _ATTRIBUTE_FIELDS if k in attr}
                attribute, attr_created = ServiceAttribute.objects.get_or_create(
                    service_type=service, code=attr["code"], defaults=attr_values
                )
                if not attr_created and update:
                    ServiceAttribute.objects.filter(pk=attribute.pk).update(**attr_values)
                report.attributes_created += attr_created
    return report


def catalog_load_file(*, path: Path = DEFAULT_CATALOG, update: bool = False) -> LoadReport:
    return catalog_load(data=json.loads(path.read_text(encoding="utf-8")), update=update)
