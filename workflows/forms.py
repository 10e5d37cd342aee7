"""Forms of the server-rendered pages: they check the shape of the input only; the services
decide what is allowed and required, and their field errors are shown on these forms."""

from __future__ import annotations

from itertools import groupby

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from departments.models import GridCell, Unit, UnitKind

from .flows.stages import STAGES
from .models import (
    DESCRIPTION_MAX_LENGTH,
    ArchiveType,
    CaseTask,
    Category,
    CategoryKind,
    LimitUnit,
    RequestType,
    Source,
    Stage,
    Urgency,
)
from .selectors.categories import reportable_categories
from .services.routing import suggestion_explanation

# What each outcome is called on its button.
OUTCOME_LABELS = {
    "accept": _("Accept (受理)"),
    "invalid": _("Not accepted (不受理)"),
    "duplicate": _("Duplicate of another case"),
    "verify": _("Send for verification on site (核实)"),
    "verified": _("Verified (核实完成)"),
    "file": _("File (立案)"),
    "refuse": _("Do not file (不予立案)"),
    "dispatch": _("Dispatch (派遣)"),
    "done": _("Handled: report the result (处置反馈)"),
    "return": _("Request return (回退)"),
    "approve": _("Approve the return"),
    "reject": _("Reject the return"),
    "pass": _("Check passed (核查通过)"),
    "fail": _("Check failed: rework (返工)"),
    "close": _("Close the case (结案)"),
    "to_hotline": _("Turn into a 12345 hotline order (转12345)"),
}
# Review tasks (extension, parking) share outcome names with the return review: their own words.
STAGE_OUTCOME_LABELS = {
    (Stage.EXTENSION_REVIEW, "approve"): _("Approve the extension (同意延期)"),
    (Stage.EXTENSION_REVIEW, "reject"): _("Reject the extension"),
    (Stage.PARKING_REVIEW, "approve"): _("Approve parking (同意挂账)"),
    (Stage.PARKING_REVIEW, "reject"): _("Reject parking"),
    (Stage.PARKED, "resume"): _("Resume handling (恢复处置)"),
}


def outcome_label(stage: str, outcome: str) -> str:
    """What an outcome is called (its button; the task page's status once it is done)."""
    return STAGE_OUTCOME_LABELS.get((stage, outcome)) or OUTCOME_LABELS.get(outcome, outcome)


# Optional fields an outcome offers besides the ones its stage requires (flows.stages).
OUTCOME_EXTRA_FIELDS = {
    "dispatch": ("unit",),
    "close": ("archive_type", "reason"),
    "verified": ("photos",),
    "done": ("photos",),
    "pass": ("photos",),
    "fail": ("photos",),
}
# Required by the service although not a text field of the stage policy.
OUTCOME_REQUIRED_EXTRA = {"done": ("photos",)}
# Outcomes that stop or send back the case: their buttons look different.
NEGATIVE_OUTCOMES = ("invalid", "duplicate", "refuse", "return", "reject", "fail")
FIELD_ORDER = (
    "unit",
    "duplicate_of",
    "hotline_category",
    "request_type",
    "archive_type",
    "result",
    "reason",
    "photos",
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several photos in one input; cleans to a (possibly empty) list of uploaded files."""

    def __init__(self, *args, **kwargs):
        # data-resize: static/cityops/photos.js shrinks the photos on the device first.
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/*", "data-resize": "1600"})
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: per field where the form has the field,
    otherwise above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)


def handling_units():
    return Unit.objects.filter(kind=UnitKind.HANDLING, is_active=True).order_by("code")


class OutcomeForm(forms.Form):
    """One outcome of a task, showing only that outcome's fields."""

    outcome = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, task: CaseTask, outcome: str, **kwargs):
        kwargs.setdefault("auto_id", f"id_{outcome}_%s")
        super().__init__(*args, initial={"outcome": outcome}, **kwargs)
        self.task, self.outcome_name = task, outcome
        self.label = outcome_label(task.stage, outcome)
        self.is_negative = outcome in NEGATIVE_OUTCOMES
        spec = STAGES[task.stage].outcome(outcome) if task.stage in STAGES else None
        required = set(spec.requires if spec else ()) | set(OUTCOME_REQUIRED_EXTRA.get(outcome, ()))
        wanted = required | set(OUTCOME_EXTRA_FIELDS.get(outcome, ()))
        for name in FIELD_ORDER:
            if name in wanted:
                self.fields[name] = self._field(name)
                # The browser helps the clerk; the service still decides (and says why).
                if name in required:
                    self.fields[name].widget.attrs["required"] = True
        self.suggestion = task.payload if outcome == "dispatch" else {}
        suggested = self.suggestion.get("suggested_unit")
        # The suggested unit by its name (the payload keeps its id and code).
        self.suggested_unit = handling_units().filter(pk=suggested).first() if suggested else None
        self.suggestion_explanation = (
            suggestion_explanation(self.suggestion, task.case) if self.suggestion else ""
        )

    def _field(self, name: str) -> forms.Field:
        if name == "unit":
            return forms.ModelChoiceField(
                label=_("Responsible unit"),
                queryset=handling_units(),
                required=False,
                initial=self.task.payload.get("suggested_unit"),
                empty_label=_("— choose a unit —"),
            )
        if name == "duplicate_of":
            return forms.CharField(
                label=_("Duplicate of case number"),
                max_length=20,
                required=False,
                widget=forms.TextInput(attrs={"placeholder": "2026-000123"}),
            )
        if name in ("reason", "result"):
            label = _("Reason") if name == "reason" else _("Result")
            return forms.CharField(
                label=label,
                max_length=2000,
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("Needed with an archive type.") if self.outcome_name == "close" else "",
            )
        if name == "hotline_category":
            return forms.ModelChoiceField(
                label=_("Hotline category"),
                queryset=Category.objects.filter(
                    kind=CategoryKind.HOTLINE, is_active=True
                ).order_by("code"),
                required=False,
            )
        if name == "request_type":
            return forms.ChoiceField(
                label=_("Request type"), choices=RequestType.choices, initial="complaint"
            )
        if name == "archive_type":
            choices = [("", _("Automatic: normal or overdue by the deadline"))]
            choices += [(t.value, t.label) for t in (ArchiveType.ERRONEOUS, ArchiveType.SPECIAL)]
            return forms.ChoiceField(label=_("Archive type"), choices=choices, required=False)
        return MultipleFileField(label=_("Photos"))

    def service_data(self) -> dict:
        """The outcome's fields as the service takes them."""
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("outcome", "photos")}
        for name in ("unit", "hotline_category"):
            if data.get(name) is not None:
                data[name] = data[name].pk
        return data

    def service_photos(self) -> list:
        return self.cleaned_data.get("photos") or []


def outcome_forms(task: CaseTask, outcomes: list[str]) -> list[OutcomeForm]:
    return [OutcomeForm(task=task, outcome=name) for name in outcomes]


class SubdispatchForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Sub-unit"), queryset=Unit.objects.none())

    def __init__(self, *args, sub_unit_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(pk__in=sub_unit_ids).order_by("code")


class RequestForm(forms.Form):
    """A handler's request about their running handling task: a reason, and what it is for."""

    name = ""  # the route's last part and the form's HTML ids
    title = ""
    help = ""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        required=False,  # the service says it is required (and why)
        widget=forms.Textarea(attrs={"rows": 2, "required": True}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.name}_%s")
        super().__init__(*args, **kwargs)


EXTENSION_UNIT_CHOICES = (LimitUnit.WORKING_HOURS, LimitUnit.WORKING_DAYS, LimitUnit.NATURAL_HOURS)


class ExtensionRequestForm(RequestForm):
    name = "extension"
    title = _("More time (延期)")
    help = _("The clock stops until the request is decided.")
    field_order = ("amount", "unit", "reason")

    amount = forms.IntegerField(
        label=_("Amount"), widget=forms.NumberInput(attrs={"min": 1, "class": "narrow"})
    )
    unit = forms.ChoiceField(
        label=_("Time unit"), choices=[(u.value, u.label) for u in EXTENSION_UNIT_CHOICES]
    )


class ParkingRequestForm(RequestForm):
    name = "parking"
    title = _("Park (挂账)")
    help = _(
        "For a case that cannot be handled for now: once the shift leader approves, the clock "
        "stops until they resume it."
    )


class InfoWaitForm(RequestForm):
    name = "waiting-info"
    title = _("Waiting for the reporter")
    help = _("The clock stops until you note that the information has arrived.")


REQUEST_FORMS: tuple[type[RequestForm], ...] = (
    ExtensionRequestForm,
    ParkingRequestForm,
    InfoWaitForm,
)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "required": True}),
    )


def category_choices() -> list:
    """Active categories of the cities' current schemes, grouped by kind and major class."""
    categories = reportable_categories().order_by("kind", "major_code", "code")
    choices: list = [("", "—")]
    for (kind, major_code, major_name), group in groupby(
        categories, key=lambda c: (c.get_kind_display(), c.major_code, c.major_name)
    ):
        choices.append(
            (f"{kind} · {major_code} {major_name}", [(c.pk, f"{c.code} {c.name}") for c in group])
        )
    return choices


def grid_choices() -> list:
    cells = GridCell.objects.order_by("code").values_list("code", "name")
    return [("", _("— locate by latitude/longitude —")), *((c, f"{c} {n}") for c, n in cells)]


class CaseReportForm(forms.Form):
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, choices=category_choices)
    description = forms.CharField(
        label=_("Description"),
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    grid = forms.ChoiceField(label=_("Grid cell"), choices=grid_choices, required=False)
    lat = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90, required=False)
    lng = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180, required=False)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=[("", _("The category's default")), *Urgency.choices],
        required=False,
    )
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices)
    reporter_name = forms.CharField(label=_("Reporter name"), max_length=80, required=False)
    reporter_contact = forms.CharField(label=_("Reporter contact"), max_length=120, required=False)
    photos = MultipleFileField(
        label=_("Photos"),
        # On a phone the camera opens directly (capture); the photos are shrunk before upload.
        widget=MultipleFileInput(
            attrs={"accept": "image/*", "capture": "environment", "data-resize": "1600"}
        ),
    )

    def report_fields(self) -> dict:
        """The cleaned input under CaseReport's names."""
        data = dict(self.cleaned_data)
        data["grid"] = data.get("grid") or None
        data["urgency"] = data.get("urgency") or None
        return data


class SavedFilterForm(forms.Form):
    """Save the case search's filters (`query`, a query string) under a name."""

    name = forms.CharField(label=_("Name of this search"), max_length=80)
    query = forms.CharField(widget=forms.HiddenInput, max_length=1000, required=False)


class RemindForm(forms.Form):
    """催办: the message to the case's current holders."""

    message = forms.CharField(
        label=_("Message"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
