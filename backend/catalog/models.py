"""Departments and the service catalog (Open311 services and their attribute definitions)."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.gis.db import models as gis_models
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import get_language

from backend.catalog.response_templates import placeholders_check

LANGUAGES = ("en", "es", "vi")

code_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_\-]{0,63}$", "Use lower-case letters, digits, '_' or '-'."
)


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{value!r} is not a known time zone") from exc


class Department(models.Model):
    code = models.CharField(max_length=64, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    contact_email = models.EmailField(blank=True)
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Priority(models.IntegerChoices):
    LOW = 1, "Low"
    NORMAL = 2, "Normal"
    HIGH = 3, "High"
    URGENT = 4, "Urgent"


class ServiceType(models.Model):
    """One entry of the catalog: an Open311 service."""

    service_code = models.CharField(max_length=64, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    group = models.CharField(max_length=100, blank=True)
    keywords = models.JSONField(default=list, blank=True, help_text="List of search keywords")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="services")
    turnaround_hours = models.PositiveIntegerField(help_text="Expected turnaround in hours")
    turnaround_business_hours = models.BooleanField(
        default=False, help_text="Count the turnaround in the department's business hours"
    )
    default_priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, default=Priority.NORMAL
    )
    active = models.BooleanField(default=True)
    # Translations of name and description, keyed by language: {"es": "...", "vi": "..."}.
    name_i18n = models.JSONField(default=dict, blank=True)
    description_i18n = models.JSONField(default=dict, blank=True)
    icon = models.CharField(max_length=64, blank=True, help_text="Icon name for the web pages")
    # Requests must fall inside this area when it is set.
    service_area = gis_models.MultiPolygonField(srid=4326, null=True, blank=True)
    sensitive_location = models.BooleanField(
        default=False, help_text="Round the location in public data (e.g. at a home)"
    )

    class Meta:
        ordering = ["group", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.service_code})"

    @property
    def has_metadata(self) -> bool:
        return bool(self.attributes.all())

    def localized_name(self, language: str | None = None) -> str:
        lang = (language or get_language() or "en")[:2]
        return str(self.name_i18n.get(lang) or self.name)

    def localized_description(self, language: str | None = None) -> str:
        lang = (language or get_language() or "en")[:2]
        return str(self.description_i18n.get(lang) or self.description)


class AttributeDatatype(models.TextChoices):
    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLEVALUELIST = "singlevaluelist"
    MULTIVALUELIST = "multivaluelist"


LIST_DATATYPES = (AttributeDatatype.SINGLEVALUELIST, AttributeDatatype.MULTIVALUELIST)


class ServiceAttribute(models.Model):
    """An Open311 attribute definition: a question asked when reporting this service."""

    service_type = models.ForeignKey(
        ServiceType, on_delete=models.CASCADE, related_name="attributes"
    )
    code = models.CharField(max_length=64, validators=[code_validator])
    datatype = models.CharField(max_length=20, choices=AttributeDatatype.choices)
    required = models.BooleanField(default=False)
    variable = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=1)
    description = models.CharField(max_length=500, help_text="The question shown to residents")
    datatype_description = models.CharField(max_length=500, blank=True)
    # [{"key": "small", "name": "Smaller than a plate", "name_i18n": {"es": ...}}]
    values = models.JSONField(default=list, blank=True)
    description_i18n = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["service_type", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["service_type", "code"], name="uniq_attribute_code")
        ]

    def __str__(self) -> str:
        return f"{self.service_type.service_code}.{self.code}"

    def clean(self) -> None:
        if self.datatype in LIST_DATATYPES and not self.values:
            raise ValidationError({"values": "List attributes need at least one value"})
        keys = [v.get("key") for v in self.values if isinstance(v, dict)]
        if len(keys) != len(self.values) or any(not isinstance(k, str) or not k for k in keys):
            raise ValidationError({"values": 'Each value must be {"key": "...", "name": "..."}'})
        if len(set(keys)) != len(keys):
            raise ValidationError({"values": "Value keys must be unique"})

    @property
    def value_keys(self) -> list[str]:
        return [str(v["key"]) for v in self.values]

    def localized_description(self, language: str | None = None) -> str:
        lang = (language or get_language() or "en")[:2]
        return str(self.description_i18n.get(lang) or self.description)


# --- Emergency mode: a site banner and services switched off for a while (issue 16).
# Set and cleared only by ``backend.catalog.emergency``; each change writes an EmergencyEvent.


class EmergencyNotice(models.Model):
    """What a banner and a switch-off share: the staff's message (with translations), shown
    from ``starts_at`` until ``ends_at`` (or until cleared), who set and who cleared it."""

    message = models.CharField(max_length=500, help_text='e.g. "Call 911 for a gas leak."')
    message_i18n = models.JSONField(default=dict, blank=True)
    starts_at = models.DateTimeField(blank=True, help_text="Empty: now")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: until cleared")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    set_at = models.DateTimeField(editable=False)
    cleared_at = models.DateTimeField(null=True, blank=True, editable=False)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        abstract = True
        ordering = ["-set_at"]

    def localized_message(self, language: str | None = None) -> str:
        lang = (language or get_language() or "en")[:2]
        return str(self.message_i18n.get(lang) or self.message)


def one_open(
    field: str, *, name: str, nulls_distinct: bool | None = None
) -> models.UniqueConstraint:
    """At most one notice not cleared per value of ``field``."""
    return models.UniqueConstraint(
        fields=[field],
        condition=models.Q(cleared_at__isnull=True),
        name=name,
        nulls_distinct=nulls_distinct,
    )


class SiteBanner(EmergencyNotice):
    """A message every resident page and app shows. At most one is open (not cleared) at a
    time: setting one clears the last."""

    class Meta(EmergencyNotice.Meta):
        # Every open banner has the same cleared_at (NULL): NULLs count as equal here.
        constraints = [one_open("cleared_at", name="one_open_site_banner", nulls_distinct=False)]

    def __str__(self) -> str:
        return self.message[:80]


class ServiceSuspension(EmergencyNotice):
    """A service switched off: intake refuses it and Open311 leaves it out of ``services``.
    At most one is open per service."""

    service_type = models.ForeignKey(
        ServiceType, on_delete=models.CASCADE, related_name="suspensions"
    )

    class Meta(EmergencyNotice.Meta):
        constraints = [one_open("service_type", name="one_open_suspension_per_service")]

    def __str__(self) -> str:
        return f"{self.service_type.service_code}: {self.message[:60]}"


class EmergencyEventKind(models.TextChoices):
    BANNER_SET = "banner_set", "Banner set"
    BANNER_CLEARED = "banner_cleared", "Banner cleared"
    SERVICE_OFF = "service_off", "Service switched off"
    SERVICE_ON = "service_on", "Service switched on"


class EmergencyEvent(models.Model):
    """Append-only audit of emergency mode: who set or cleared what, when, until when."""

    kind = models.CharField(max_length=20, choices=EmergencyEventKind.choices)
    banner = models.ForeignKey(
        SiteBanner, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    suspension = models.ForeignKey(
        ServiceSuspension, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    service_type = models.ForeignKey(
        ServiceType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at"], name="emergency_event_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.created_at:%Y-%m-%d %H:%M}"


# --- Response templates: staff's ready-made public notes (issue 16). The placeholders and
# their check: ``backend.catalog.response_templates``; filled in with a work order's data by
# ``workorders.response_templates``.


class ResponseTemplate(models.Model):
    """A ready-made public note for a service (or all services) and a status, in one language.
    The same ``name`` for the same service and status in another language is its translation:
    a request is offered the one in its own language, else the English one."""

    name = models.CharField(max_length=100, help_text="What staff pick it by, e.g. Parts ordered")
    service_type = models.ForeignKey(
        ServiceType,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="response_templates",
        help_text="Empty: every service",
    )
    # The work order status the note goes with (the one the order is in, or moves to with
    # the note: "completed" for a closing note); "" any. Its values are the work orders'
    # (``workorders.models.WorkOrderStatus``: the admin's form offers those, from above).
    status = models.CharField(max_length=20, blank=True, default="")
    language = models.CharField(
        max_length=2, choices=[(code, code) for code in LANGUAGES], default="en"
    )
    text = models.TextField(
        max_length=2000,
        help_text="The note the resident reads. Placeholders: {service}, {expected_date}, "
        "{team}, {public_id}",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "service_type", "status", "language"],
                name="uniq_response_template",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    def clean(self) -> None:
        placeholders_check(self.text, field="text")
