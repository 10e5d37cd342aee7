"""Reads of the intelligence app: how often the suggestions were taken."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from .models import SuggestionLog, Taken


@dataclass(frozen=True)
class Acceptance:
    decided: int
    first: int
    other: int
    none: int

    @property
    def rate(self) -> float | None:
        """The share of decisions that took the first suggestion."""
        return self.first / self.decided if self.decided else None

    @property
    def any_rate(self) -> float | None:
        """The share that took one of the suggestions."""
        return (self.first + self.other) / self.decided if self.decided else None


def suggestion_acceptance(
    *, since: dt.datetime | None = None, model_version: str | None = None
) -> Acceptance:
    rows = SuggestionLog.objects.exclude(taken="")
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if model_version is not None:
        rows = rows.filter(model_version=model_version)
    counts = rows.aggregate(
        decided=Count("id"),
        first=Count("id", filter=Q(taken=Taken.FIRST)),
        other=Count("id", filter=Q(taken=Taken.OTHER)),
        none=Count("id", filter=Q(taken=Taken.NONE)),
    )
    return Acceptance(**counts)
