"""Checks of a submission against the catalog: location, attributes, description.

Each check adds messages to an ``errors`` dict keyed by the field's name so a client learns
about every wrong field at once."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.gis.geos import Point
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from backend.catalog.models import AttributeDatatype, ServiceAttribute, ServiceType
from backend.catalog.selectors import service_suspension_current

Errors = dict[str, list[str]]
DESCRIPTION_MAX = 4000
ADDRESS_MAX = 500
MEDIA_URL_MAX = 1000


def add_error(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def service_available_check(*, service_type: ServiceType, errors: Errors) -> bool:
    """A service switched off for a while (emergency mode) is refused as an inactive one is,
    404 naming ``service_code``, with the staff's message ("Call 911 for a gas leak.")."""
    notice = service_suspension_current(service_code=service_type.service_code)
    if notice is None:
        return True
    message = _("%(service)s cannot be reported at the moment. %(message)s") % {
        "service": service_type.localized_name(),
        "message": notice.message_in(),
    }
    add_error(errors, "service_code", message)
    return False


def location_check(
    *, lat: Any, long: Any, address: str, service_type: ServiceType | None, errors: Errors
) -> Point | None:
    if lat is None and long is None:
        if not address.strip():
            add_error(errors, "lat", "A location is required: give lat and long, or an address.")
        return None
    if lat is None or long is None:
        add_error(errors, "long" if long is None else "lat", "Give both lat and long.")
        return None
    try:
        lat_f, long_f = float(lat), float(long)
    except (TypeError, ValueError):
        add_error(errors, "lat", "lat and long must be numbers in decimal degrees.")
        return None
    if not -90 <= lat_f <= 90 or lat_f != lat_f:
        add_error(errors, "lat", "lat must be between -90 and 90.")
        return None
    if not -180 <= long_f <= 180 or long_f != long_f:
        add_error(errors, "long", "long must be between -180 and 180.")
        return None
    point = Point(long_f, lat_f, srid=4326)
    area = service_type.service_area if service_type is not None else None
    if area is not None and not area.covers(point):
        add_error(errors, "lat", "This location is outside the area this service covers.")
        return None
    return point


def _attribute_value(attribute: ServiceAttribute, value: Any) -> tuple[Any, str | None]:
    """The value normalised for storage, or an error message."""
    datatype = attribute.datatype
    if datatype in (AttributeDatatype.STRING, AttributeDatatype.TEXT):
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            return None, "must be text"
        text = str(value)
        limit = 255 if datatype == AttributeDatatype.STRING else 4000
        if len(text) > limit:
            return None, f"must be at most {limit} characters"
        return text, None
    if datatype == AttributeDatatype.NUMBER:
        if isinstance(value, bool):
            return None, "must be a number"
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None, "must be a number"
        if not number.is_finite():
            return None, "must be a finite number"
        return (int(number) if number == number.to_integral_value() else float(number)), None
    if datatype == AttributeDatatype.DATETIME:
        parsed: datetime | None = parse_datetime(str(value)) if isinstance(value, str) else None
        if parsed is None or parsed.tzinfo is None:
            return None, "must be an ISO 8601 date and time with a time zone"
        return parsed.isoformat(), None
    keys = attribute.value_keys
    if datatype == AttributeDatatype.SINGLEVALUELIST:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, str) or value not in keys:
            return None, f"must be one of: {', '.join(keys)}"
        return value, None
    # multivaluelist
    items = value if isinstance(value, list) else [value]
    if not items or any(not isinstance(v, str) or v not in keys for v in items):
        return None, f"must be one or more of: {', '.join(keys)}"
    return sorted(set(items), key=keys.index), None


def attributes_check(*, service_type: ServiceType, answers: Any, errors: Errors) -> dict[str, Any]:
    if answers is None:
        answers = {}
    if not isinstance(answers, dict):
        add_error(errors, "attributes", "attributes must be an object of code: value.")
        return {}
    definitions = {a.code: a for a in service_type.attributes.all()}
    cleaned: dict[str, Any] = {}
    for code in answers:
        if code not in definitions:
            add_error(
                errors, f"attribute[{code}]", f"{service_type.service_code} has no such attribute."
            )
    for code, attribute in definitions.items():
        if not attribute.variable:
            continue
        value = answers.get(code)
        if value is None or value == "" or value == []:
            if attribute.required:
                add_error(errors, f"attribute[{code}]", "This attribute is required.")
            continue
        normalised, message = _attribute_value(attribute, value)
        if message:
            add_error(errors, f"attribute[{code}]", f"{attribute.code} {message}.")
        else:
            cleaned[code] = normalised
    return cleaned


def text_check(*, description: str, address: str, errors: Errors) -> None:
    if len(description) > DESCRIPTION_MAX:
        add_error(
            errors,
            "description",
            f"The description is {len(description)} characters; the limit is {DESCRIPTION_MAX}.",
        )
    if len(address) > ADDRESS_MAX:
        add_error(errors, "address", f"The address is limited to {ADDRESS_MAX} characters.")


def contact_check(*, name: str, email: str, phone: str, errors: Errors) -> None:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    if email:
        try:
            validate_email(email)
        except ValidationError:
            add_error(errors, "email", "Enter a valid e-mail address.")
    if len(name) > 200:
        add_error(errors, "name", "The name is limited to 200 characters.")
    if phone and (len(phone) > 40 or not any(ch.isdigit() for ch in phone)):
        add_error(errors, "phone", "Enter a phone number of at most 40 characters.")


def media_url_check(*, media_url: str, errors: Errors) -> None:
    """A link the client sends along (Open311 ``media_url``): kept as a reference only, so it
    needs to be an http(s) URL of reasonable length; the server never fetches it."""
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    if not media_url:
        return
    if len(media_url) > MEDIA_URL_MAX:
        add_error(errors, "media_url", f"The media_url is limited to {MEDIA_URL_MAX} characters.")
        return
    try:
        URLValidator(schemes=["http", "https"])(media_url)
    except ValidationError:
        add_error(errors, "media_url", "Enter an http or https URL.")
