"""Bottlenecks, the monthly bulletin, self-service analysis, adding a derived indicator."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from departments.models import Role, Unit
from workflows.access import shared_view_q
from workflows.models import Source, Urgency

from .. import reports
from ..bulletin import bulletin_data, bulletin_pdf, bulletin_xlsx
from ..models import Direction, Indicator, MeasureUnit, SavedView, ViewComment
from ..registry import BASE_COUNTS, FormulaError
from ..selectors.periods import PeriodError, period_parse
from ..services import indicator_save
from .exports import table_response
from .pages import bad_request, filter_context
from .params import BadInput, group_from, scope_or_404, selection_from


@login_required
@require_GET
def bottlenecks_view(request: HttpRequest) -> HttpResponse:
    scope = scope_or_404(request.user)
    try:
        selection = selection_from(request.GET, scope)
    except BadInput as exc:
        return bad_request(request, str(exc))
    labels = reports.Labels()
    shares = reports.table(
        selection,
        "unit",
        ["accurate_dispatch_rate", "rework_rate", "extension_rate"],
        labels=labels,
        keys_visible=reports.unit_keys(scope),
    )
    context = {
        **filter_context(request, selection, scope),
        "rows": reports.bottlenecks(selection, labels),
        "shares": shares,
    }
    return render(request, "indicators/bottlenecks.html", context)


@login_required
@require_GET
def bulletin_view(request: HttpRequest) -> HttpResponse:
    scope = scope_or_404(request.user)
    try:
        month = request.GET.get("month") or None
        period = period_parse("month", month)
        if not month:
            period = period.previous()  # the bulletin reports the last complete month
    except PeriodError as exc:
        return bad_request(request, str(exc))
    data = bulletin_data(period, scope)
    fmt = request.GET.get("format")
    if fmt == "pdf":
        response = HttpResponse(bulletin_pdf(data), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="bulletin-{period.key}.pdf"'
        return response
    if fmt == "xlsx":
        response = HttpResponse(
            bulletin_xlsx(data),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="bulletin-{period.key}.xlsx"'
        return response
    return render(request, "indicators/bulletin.html", data)


CHARTS = [
    ("bar", gettext_lazy("Bar")),
    ("stacked", gettext_lazy("Stacked bar")),
    ("line", gettext_lazy("Line")),
    ("pie", gettext_lazy("Pie")),
    ("map", gettext_lazy("Map (grid cells)")),
]
DIMENSIONS = [
    ("unit", gettext_lazy("Unit")),
    ("district", gettext_lazy("District")),
    ("street", gettext_lazy("Street")),
    ("community", gettext_lazy("Community")),
    ("grid", gettext_lazy("Grid cell")),
    ("major", gettext_lazy("Category (major)")),
    ("category", gettext_lazy("Category (minor)")),
    ("source", gettext_lazy("Source")),
    ("urgency", gettext_lazy("Urgency")),
    ("stage", gettext_lazy("Stage")),
    ("person", gettext_lazy("Person")),
    ("day", gettext_lazy("Day")),
    ("week", gettext_lazy("ISO week")),
    ("month", gettext_lazy("Month")),
]


def _visible_views(user):
    """Views the user saved, or that were shared with a unit or a role they hold."""
    return SavedView.objects.filter(shared_view_q(user)).distinct()


class SaveViewForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    shared_unit = forms.ModelChoiceField(
        label=gettext_lazy("Share with unit"),
        queryset=Unit.objects.order_by("code"),
        required=False,
    )
    shared_role = forms.ChoiceField(
        label=gettext_lazy("Share with role"), choices=[("", "—"), *Role.choices], required=False
    )


class CommentForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Comment"), max_length=2000)


@login_required
@require_http_methods(["GET", "POST"])
def analysis_view(request: HttpRequest) -> HttpResponse:
    """Self-service analysis: indicators × a dimension, filters, a pivot table and a chart;
    saved under a name, shared with a unit or a role, commented on."""
    scope = scope_or_404(request.user)
    opened = None
    if request.GET.get("view"):
        opened = _visible_views(request.user).filter(pk=request.GET.get("view")).first()
        if opened is None:
            raise Http404
    if request.method == "POST":
        return _analysis_post(request, opened)
    params = request.GET
    try:
        selection = selection_from(params, scope)
        group = group_from(params, "unit")
    except BadInput as exc:
        return bad_request(request, str(exc))
    codes = params.getlist("ind") or ["handling_rate", "handled_on_time_rate"]
    chart = params.get("chart") if params.get("chart") in dict(CHARTS) else "bar"
    labels = reports.Labels()
    visible = reports.unit_keys(scope) if group == "unit" else None
    table = reports.table(selection, group, codes[:8], labels=labels, keys_visible=visible)
    if params.get("export") in ("csv", "xlsx"):
        return table_response(table, params["export"], "analysis", selection)
    data = {
        "x": [r["label"] for r in table["rows"]],
        "series": [
            {
                "name": c["name"],
                "data": [r["cells"][n]["value"] for r in table["rows"]],
                "links": [r["cells"][n]["url"] for r in table["rows"]],
            }
            for n, c in enumerate(table["columns"])
        ],
    }
    if chart == "pie" and table["columns"]:
        data = [
            {"name": r["label"], "value": r["cells"][0]["value"] or 0, "link": r["cells"][0]["url"]}
            for r in table["rows"]
        ]
    if chart == "map":
        data = reports.grid_map(selection, labels)
    query = params.copy()
    for name in ("view", "export"):
        query.pop(name, None)
    context = {
        **filter_context(request, selection, scope),
        "indicators": Indicator.objects.filter(is_active=True),
        "chosen": codes,
        "group": group,
        "dimensions": DIMENSIONS,
        "charts": CHARTS,
        "chart": chart,
        "table": table,
        "first": dict(DIMENSIONS).get(group, ""),
        "data": {"chart": data},
        "query": query.urlencode(),
        "saved": _visible_views(request.user).order_by("name"),
        "opened": opened,
        "comments": opened.comments.select_related("author") if opened else [],
        "save_form": SaveViewForm(),
        "comment_form": CommentForm(),
    }
    return render(request, "indicators/analysis.html", context)


def _analysis_post(request, opened):
    here = reverse("indicators:analysis")
    if "text" in request.POST:
        form = CommentForm(request.POST)
        if opened is None or not form.is_valid():
            messages.error(request, _("Write a comment on a saved view."))
        else:
            ViewComment.objects.create(
                view=opened, author=request.user, text=form.cleaned_data["text"]
            )
        return redirect(
            f"{here}?{opened.spec.get('query', '')}&view={opened.pk}" if opened else here
        )
    form = SaveViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the view a name."))
        return redirect(f"{here}?{request.POST.get('query', '')}")
    view = SavedView.objects.create(
        name=form.cleaned_data["name"],
        owner=request.user,
        spec={"query": request.POST.get("query", "")},
        shared_unit=form.cleaned_data["shared_unit"],
        shared_role=form.cleaned_data["shared_role"] or "",
    )
    messages.success(request, _("Saved “%(name)s”.") % {"name": view.name})
    return redirect(f"{here}?{view.spec['query']}&view={view.pk}")


class TermForm(forms.Form):
    count = forms.ChoiceField(label=gettext_lazy("Count"), required=False)
    weight = forms.FloatField(label=gettext_lazy("Weight"), required=False, initial=1)
    kind = forms.ChoiceField(
        label=gettext_lazy("Category class"),
        required=False,
        choices=[
            ("", "—"),
            ("component", gettext_lazy("Component")),
            ("event", gettext_lazy("Event")),
        ],
    )
    source = forms.ChoiceField(
        label=gettext_lazy("Source"), required=False, choices=[("", "—"), *Source.choices]
    )
    urgency = forms.ChoiceField(
        label=gettext_lazy("Urgency"), required=False, choices=[("", "—"), *Urgency.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["count"].choices = [("", "—")] + [
            (code, str(b.label)) for code, b in BASE_COUNTS.items()
        ]

    def term(self):
        data = self.cleaned_data
        if not data.get("count"):
            return None
        filters = {k: data[k] for k in ("kind", "source", "urgency") if data.get(k)}
        return {"count": data["count"], "weight": data.get("weight") or 1, "filters": filters}


class IndicatorForm(forms.Form):
    code = forms.SlugField(label=gettext_lazy("Code"), max_length=40)
    name_zh = forms.CharField(label=gettext_lazy("Name (Chinese)"), max_length=80)
    name_en = forms.CharField(label=gettext_lazy("Name (English)"), max_length=120)
    definition_zh = forms.CharField(
        label=gettext_lazy("Definition (Chinese)"), widget=forms.Textarea
    )
    definition_en = forms.CharField(
        label=gettext_lazy("Definition (English)"), widget=forms.Textarea
    )
    unit = forms.ChoiceField(label=gettext_lazy("Unit"), choices=MeasureUnit.choices)
    direction = forms.ChoiceField(label=gettext_lazy("Direction"), choices=Direction.choices)
    owner = forms.CharField(label=gettext_lazy("Owner"), max_length=80, required=False)
    note = forms.CharField(label=gettext_lazy("Change note"), required=False)


TERMS = 3


@login_required
@require_http_methods(["GET", "POST"])
def indicator_new_view(request: HttpRequest) -> HttpResponse:
    """Staff admins add (or change, as a new version) a derived indicator: a ratio or weighted
    sum of base counts with filters, without code."""
    if not request.user.is_staff:
        raise Http404
    data = request.POST if request.method == "POST" else None
    form = IndicatorForm(data, initial={"code": request.GET.get("code", "")})
    numerator = [TermForm(data, prefix=f"n{i}") for i in range(TERMS)]
    denominator = [TermForm(data, prefix=f"d{i}") for i in range(TERMS)]
    error = ""
    if data is not None and form.is_valid() and all(f.is_valid() for f in numerator + denominator):
        formula = {"numerator": [t for f in numerator if (t := f.term())]}
        den = [t for f in denominator if (t := f.term())]
        if den:
            formula["denominator"], formula["scale"] = (
                den,
                100 if form.cleaned_data["unit"] == "percent" else 1,
            )
        definition = {**form.cleaned_data, "formula": formula}
        try:
            ind = indicator_save(
                code=form.cleaned_data["code"],
                definition=definition,
                actor=request.user,
                note=form.cleaned_data["note"],
            )
        except FormulaError as exc:
            error = str(exc)
        else:
            messages.success(
                request,
                _("Indicator %(code)s saved as version %(v)s.")
                % {"code": ind.code, "v": ind.version},
            )
            return redirect(reverse("indicators:dictionary") + f"#{ind.code}")
    status = 400 if data is not None else 200
    return render(
        request,
        "indicators/indicator_new.html",
        {"form": form, "numerator": numerator, "denominator": denominator, "error": error},
        status=status,
    )
