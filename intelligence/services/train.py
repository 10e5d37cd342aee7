"""Training the dispatch-suggestion model on the city's closed cases, measuring it on the most
recent ones held out, storing it as a new version; activating a version (and rolling back)."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows.models import Case, CaseStatus

from ..models import ImportedCase, SuggestionModel
from .textmodel import ALGORITHM, TextModel, words


class TooLittleHistory(ValueError):
    """Cold start: not enough closed cases to learn from."""


@dataclass
class Dataset:
    texts: list[str]
    units: list[str]
    categories: list[str | None]
    refs: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def part(self, start: int, stop: int | None = None) -> Dataset:
        s = slice(start, stop)
        return Dataset(self.texts[s], self.units[s], self.categories[s], self.refs[s])


def category_key(scheme: str, kind: str, code: str) -> str:
    """A category as the history files and the API name it: scheme/kind/code."""
    return f"{scheme}/{kind}/{code}"


def closed_cases() -> Dataset:
    """Every closed case with the unit that finally handled it (after any returns) and its
    final category, oldest first; imported cases without a category teach only the unit."""
    unlabelled = set(
        ImportedCase.objects.filter(has_category=False).values_list("case_id", flat=True)
    )
    rows = (
        Case.objects.filter(status=CaseStatus.CLOSED, responsible_unit__isnull=False)
        .order_by("created_at", "id")
        .values_list(
            "pk",
            "number",
            "description",
            "responsible_unit__code",
            "category__scheme__code",
            "category__kind",
            "category__code",
        )
        .iterator(chunk_size=5000)
    )
    data = Dataset([], [], [], [])
    for pk, number, text, unit, scheme, kind, code in rows:
        if not text.strip():
            continue
        data.texts.append(text)
        data.units.append(unit)
        data.categories.append(None if pk in unlabelled else category_key(scheme, kind, code))
        data.refs.append(number)
    return data


def topk_accuracy(classes, proba, truth: list[str | None], k: int) -> float | None:
    labelled = [i for i, t in enumerate(truth) if t]
    if not labelled:
        return None
    # Row by row as argsort orders each row, all rows in one call.
    best = np.argsort(proba[labelled], axis=1)[:, ::-1][:, :k]
    named = np.asarray([str(c) for c in classes], dtype=object)[best]
    wanted = np.asarray([truth[i] for i in labelled], dtype=object)[:, None]
    hits = int((named == wanted).any(axis=1).sum())
    return round(hits / len(labelled), 4)


def baseline_accuracy(counts: Counter, truth: list[str | None], k: int) -> float | None:
    """Always answering the k most frequent labels of the training cases."""
    labelled = [t for t in truth if t]
    if not labelled:
        return None
    top = {label for label, _n in counts.most_common(k)}
    return round(sum(t in top for t in labelled) / len(labelled), 4)


def evaluate(model: TextModel, data: Dataset, *, x=None) -> dict:
    """Top-1 / top-3 accuracy on units and categories, beside the majority-class baseline
    (`x`: the texts' features, when already built)."""
    figures: dict = {"cases": len(data)}
    x = x if x is not None else model.matrix(data.texts)  # once for both tasks
    for task, truth in (("unit", data.units), ("category", data.categories)):
        classes, proba = model.rank_matrix(x, task)
        figures[task] = {
            "top1": topk_accuracy(classes, proba, truth, 1),
            "top3": topk_accuracy(classes, proba, truth, 3),
            "baseline": baseline_accuracy(model.counts.get(task, Counter()), truth, 1),
            "baseline3": baseline_accuracy(model.counts.get(task, Counter()), truth, 3),
            "labelled": sum(1 for t in truth if t),
        }
    return figures


def _new_model(size: int) -> TextModel:
    return TextModel(min_df=2 if size >= 2000 else 1)


@transaction.atomic
def suggestion_model_activate(*, actor, model: SuggestionModel) -> SuggestionModel:
    """Make this version the one suggestions use (also a roll-back to an older one)."""
    SuggestionModel.objects.select_for_update().filter(is_active=True).exclude(pk=model.pk).update(
        is_active=False
    )
    model.is_active = True
    model.save(update_fields=["is_active"])
    return model


def suggestion_model_train(
    *, actor=None, holdout: float = 0.2, activate: bool = True, data: Dataset | None = None
) -> SuggestionModel:
    """Train on every closed case, measured on the most recent `holdout` share first (fit on
    the older ones), then refit on all of them; stored as a new version."""
    started = time.monotonic()
    data = data if data is not None else closed_cases()
    minimum = settings.CITYOPS_SUGGEST_MIN_CASES
    if len(data) < minimum or len(set(data.units)) < 2:
        raise TooLittleHistory(
            _(
                "Only %(n)s closed cases with a handling unit (at least %(min)s, of two units "
                "or more, are needed): suggestions match category names and routing rules "
                "until then."
            )
            % {"n": len(data), "min": minimum}
        )
    tokens = [words(t) for t in data.texts]
    cut = int(len(data) * (1 - holdout))
    # One set of features for all cases (the vocabularies and IDF weights, learnt without
    # labels, also see the held-out texts); the classifiers are fitted on the older cases,
    # measured on the held-out ones, then extended to all cases by one more epoch instead
    # of a second fit from scratch (bench/README.md: the same figures, ~40 % less SGD).
    model = _new_model(len(data))
    x = model.fit_features(data.texts, tokens)
    del tokens
    model.fit_classifiers(x[:cut], data.units[:cut], data.categories[:cut])
    metrics = evaluate(model, data.part(cut), x=x[cut:])
    model.continue_classifiers(x, data.units, data.categories)
    model.keep_neighbours(
        x,
        data.texts,
        data.units,
        data.categories,
        data.refs,
        neighbours=settings.CITYOPS_SUGGEST_NEIGHBOURS,
    )
    del x
    artifact = model.dumps()
    version = _version()
    record = SuggestionModel.objects.create(
        version=version,
        algorithm=ALGORITHM,
        cases=len(data),
        held_out=len(data) - cut,
        units=len(set(data.units)),
        categories=len({c for c in data.categories if c}),
        metrics=metrics,
        seconds=round(time.monotonic() - started, 2),
        artifact=artifact,
        size=len(artifact),
        trained_by=actor,
    )
    if activate:
        suggestion_model_activate(actor=actor, model=record)
    return record


def _version() -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    n = SuggestionModel.objects.count() + 1
    return f"v{n}-{stamp}"


def weekly_training() -> None:
    """The periodic job: a new version when the newest is older than six days (the in-process
    runner starts every job when the server starts); quietly nothing at a cold start."""
    newest = SuggestionModel.objects.order_by("-created_at").values_list("created_at", flat=True)
    last = newest.first()
    if last is not None and last > timezone.now() - dt.timedelta(days=6):
        return
    with contextlib.suppress(TooLittleHistory):
        suggestion_model_train()


def demo_model_train(*, history_written: bool) -> SuggestionModel | None:
    """The demo seeding: a version when history was just written or none is active (seeding
    again must not pile up versions)."""
    if not history_written and SuggestionModel.objects.filter(is_active=True).exists():
        return None
    return suggestion_model_train()
