"""Saved case searches: a user keeps a named set of filters of the case list, and deletes it."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ..models import SavedCaseFilter
from .errors import Conflict, ValidationError, not_found

MAX_SAVED_PER_USER = 50


def saved_filter_save(*, actor, name: str, query: str) -> SavedCaseFilter:
    """Save the filters `query` (a query string the search reads) under `name` (replacing the
    user's search of the same name)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("Give the search a name.")]})
    if not query:
        raise ValidationError(_("Choose at least one filter to save."))
    existing = SavedCaseFilter.objects.filter(user=actor, name=name).first()
    if existing is not None:
        existing.query = query
        existing.save(update_fields=["query"])
        return existing
    if SavedCaseFilter.objects.filter(user=actor).count() >= MAX_SAVED_PER_USER:
        raise Conflict(
            _("You have %(n)d saved searches: delete one first.") % {"n": MAX_SAVED_PER_USER},
            code="too_many_saved_searches",
        )
    try:
        with transaction.atomic():
            return SavedCaseFilter.objects.create(user=actor, name=name, query=query)
    except IntegrityError as exc:  # the same name saved at the same moment
        raise Conflict(_("A search of this name was just saved."), code="saved_search") from exc


def saved_filter_delete(*, actor, saved_id: int) -> None:
    deleted, _rows = SavedCaseFilter.objects.filter(user=actor, pk=saved_id).delete()
    if not deleted:
        raise not_found()
