"""Forms of the supervisor console and the feedback page. They only collect input; the
services decide (and their errors come back as messages)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from backend.catalog.models import ServiceType
from backend.photos.uploads import PhotoTooLarge, photo_size_check
from workorders.models import OPEN_STATUSES, HoldReason, ReviewDecision, Team, TeamMember
from workorders.selectors import QUEUE_BY_SUPPORTERS, DispatchFilters
from workorders.services import CANCEL_CLOSE_REASONS
from workorders.web.labels import STATUS_LABELS


def note_field(label: str | None = None) -> forms.CharField:
    """An optional note of up to 4000 characters, in a small text area."""
    return forms.CharField(
        required=False,
        max_length=4000,
        label=label,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
    )


NOTE = note_field()


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class AssignForm(forms.Form):
    team = TeamChoiceField(
        queryset=Team.objects.none(),
        required=False,
        empty_label="Least-loaded team",
        help_text="Empty: the team with the fewest open work orders",
    )
    assignee = forms.ModelChoiceField(
        queryset=TeamMember.objects.none(), required=False, empty_label="Anyone in the team"
    )
    note = NOTE

    def __init__(self, *args: Any, department_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.ModelChoiceField)
        team_field.queryset = Team.objects.filter(department_id=department_id, active=True)
        assignee_field = self.fields["assignee"]
        assert isinstance(assignee_field, forms.ModelChoiceField)
        assignee_field.queryset = TeamMember.objects.filter(
            team__department_id=department_id, team__active=True
        ).select_related("user", "team")


UNASSIGNED = "none"


class DispatchFilterForm(forms.Form):
    """The console's filters (query parameters): a team of the department or "not
    assigned", a service, an open status. Empty: all."""

    team = forms.ChoiceField(required=False, label=_("Team"))
    service = forms.ChoiceField(required=False, label=_("Service"))
    status = forms.ChoiceField(required=False, label=_("Status"))
    # The table's order only (the map and the workload do not depend on it).
    sort = forms.ChoiceField(
        required=False,
        label=_("Sort by"),
        choices=[("", _("Soonest due first")), (QUEUE_BY_SUPPORTERS, _("Most supporters first"))],
    )

    def __init__(
        self,
        *args: Any,
        teams: list[Team],
        service_types: list[ServiceType],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._service_ids = {service.service_code: service.pk for service in service_types}
        self._fields("team").choices = [
            ("", _("All teams")),
            (UNASSIGNED, _("Not assigned")),
            *((str(team.pk), team.name) for team in teams),
        ]
        self._fields("service").choices = [
            ("", _("All services")),
            *((service.service_code, service.localized_name()) for service in service_types),
        ]
        self._fields("status").choices = [
            ("", _("Any open status")),
            *((status.value, STATUS_LABELS[status]) for status in OPEN_STATUSES),
        ]

    def _fields(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field

    def filters(self) -> DispatchFilters:
        """The filters asked for; a field that is not valid filters nothing."""
        if not self.is_bound:
            return DispatchFilters()
        self.is_valid()
        data = self.cleaned_data
        team = data.get("team") or ""
        service = data.get("service") or ""
        return DispatchFilters(
            team_id=int(team) if team and team != UNASSIGNED else None,
            unassigned=team == UNASSIGNED,
            service_type_id=self._service_ids.get(service),
            status=data.get("status") or None,
        )

    @property
    def active(self) -> bool:
        return self.filters() != DispatchFilters()

    def queue_sort(self) -> str:
        """The table's order asked for ("": by due time); one that is not valid: by due."""
        if not self.is_bound:
            return ""
        self.is_valid()
        return str(self.cleaned_data.get("sort") or "")


class NoteForm(forms.Form):
    note = NOTE


class ResidentNoteForm(forms.Form):
    """A message to the resident (their track page), with an internal note if need be."""

    public_note = forms.CharField(
        max_length=2000,
        label="Message to the resident",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
    )
    note = NOTE


class HoldForm(forms.Form):
    reason = forms.ChoiceField(choices=HoldReason.choices)
    note = NOTE


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > settings.PHOTO_MAX_PER_REQUEST:
            raise forms.ValidationError(f"At most {settings.PHOTO_MAX_PER_REQUEST} photos.")
        for index, upload in enumerate(files, start=1):
            try:
                photo_size_check(upload, field="photos", number=index)
            except PhotoTooLarge as exc:
                raise forms.ValidationError(exc.message) from exc
        return list(files)


class CompleteForm(forms.Form):
    photos = MultipleImageField(
        required=False,
        label="Proof photos",
        help_text="At least one photo of the finished work (sent now or before)",
    )
    note = note_field("Closing note (the resident reads it)")


class CancelForm(forms.Form):
    close_reason = forms.ChoiceField(
        choices=[(reason.value, reason.label) for reason in CANCEL_CLOSE_REASONS],
        label="Close the request as",
    )
    public_note = note_field("Message to the resident")
    note = NOTE


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=ReviewDecision.choices)
    note = NOTE


class MergeForm(forms.Form):
    into = forms.CharField(
        max_length=32, label="Original request", help_text="Its id, e.g. SR-2026-000123"
    )
    note = NOTE


class ChangeTypeForm(forms.Form):
    service_type = forms.ModelChoiceField(
        queryset=ServiceType.objects.filter(active=True).order_by("name"),
        label="New service",
    )
    note = NOTE


class FeedbackForm(forms.Form):
    fixed = forms.TypedChoiceField(
        choices=[("yes", _("Yes, it is fixed")), ("no", _("No, it is not fixed"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        label=_("Was it fixed?"),
    )
    rating = forms.TypedChoiceField(
        choices=[(str(n), str(n)) for n in range(1, 6)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        label=_("How would you rate our work? (1 poor, 5 excellent)"),
    )
    comment = forms.CharField(
        required=False,
        max_length=2000,
        label=_("Anything to add?"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
