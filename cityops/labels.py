"""Translatable labels for model fields (and models) that were declared without a
verbose_name: Django derives one from the name ("reported_by" → "reported by"), in English
only, and the admin shows it in every language.

`label_models` (called from the apps' ready()) gives each such field the translatable label
below, at run time: the migrations keep the fields as declared (no schema churn), and the
labels are msgids that makemessages finds here. tests/test_admin_labels.py fails on a field
or model whose label has no Chinese.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _

# Keyed by the label Django derives from the field's (or model's) name.
DERIVED_LABELS = {
    "actor": _("actor"),
    "actor id": _("actor id"),
    "area": _("area"),
    "at": _("at"),
    "attempts": _("attempts"),
    "attempts failed in a row": _("attempts failed in a row"),
    "author": _("author"),
    "body": _("body"),
    "calendar": _("calendar"),
    "case": _("case"),
    "case sequence": _("case number sequence"),
    "case sequences": _("case number sequences"),
    "category": _("category"),
    "category id": _("category id"),
    "category kind": _("category kind"),
    "changed by": _("changed by"),
    "city": _("city"),
    "city id": _("city id"),
    "community id": _("community id"),
    "content type": _("content type"),
    "created at": _("created at"),
    "created by": _("created by"),
    "day": _("day"),
    "decided at": _("decided at"),
    "decided by": _("decided by"),
    "delivered at": _("delivered at"),
    "delivery id": _("delivery id"),
    "disabled at": _("disabled at"),
    "district id": _("district id"),
    "due at": _("due at"),
    "duplicate of": _("duplicate of"),
    "end at": _("end at"),
    "event id": _("event id"),
    "event type": _("event type"),
    "fact cursor": _("fact cursor"),
    "fact cursors": _("fact cursors"),
    "failed at": _("failed at"),
    "failures in a row": _("failures in a row"),
    "flag": _("flag"),
    "grid": _("grid"),
    "grid id": _("grid id"),
    "indicator": _("indicator"),
    "issued by": _("issued by"),
    "key": _("key"),
    "key hash": _("key hash"),
    "kind": _("kind"),
    "last": _("last number"),
    "last error": _("last error"),
    "last event id": _("last event id"),
    "last status": _("last status"),
    "major code": _("major category code"),
    "method": _("method"),
    "name": _("name"),
    "on time": _("on time"),
    "owner": _("owner"),
    "parked at": _("parked at"),
    "path": _("path"),
    "paused until": _("paused until"),
    "payload": _("payload"),
    "replied by": _("replied by"),
    "reported by": _("reported by"),
    "request hash": _("request hash"),
    "request type": _("request type"),
    "requested by": _("requested by"),
    "response headers": _("response headers"),
    "resumed at": _("resumed at"),
    "role": _("role"),
    "size": _("size"),
    "source": _("source"),
    "stage": _("stage"),
    "status code": _("status code"),
    "street id": _("street id"),
    "subscription": _("subscription"),
    "task": _("task"),
    "unit": _("unit"),
    "unit id": _("unit id"),
    "uploaded by": _("uploaded by"),
    "urgency": _("urgency"),
    "user": _("user"),
    "value": _("value"),
    "view": _("view"),
    "view comment": _("view comment"),
    "view comments": _("view comments"),
    "wait minutes": _("waiting minutes"),
    "work minutes": _("working minutes"),
    "year": _("year"),
}


def label_models(model_classes: Iterable[type[models.Model]]) -> None:
    """Swap derived English labels for the translatable ones (declared labels stay)."""
    for model in model_classes:
        options = model._meta
        for attribute in ("verbose_name", "verbose_name_plural"):
            derived = getattr(options, attribute)
            if attribute not in options.original_attrs and derived in DERIVED_LABELS:
                setattr(options, attribute, DERIVED_LABELS[derived])
        for field in options.local_fields + options.local_many_to_many:
            if field._verbose_name is None and field.verbose_name in DERIVED_LABELS:
                field.verbose_name = DERIVED_LABELS[field.verbose_name]  # was derived
