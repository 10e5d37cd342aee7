"""Notifications: the in-app bell, its email copies (through the outbox), and who receives them.

`notify` writes rows only, in the caller's transaction; the email is delivered after commit by
`workflows.outbox.deliver_due`. A rolled-back state change therefore notifies nobody, and a
committed one cannot lose its email.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.models import Membership, Unit

from ..models import Case, Notification, OutboxMessage
from ..selectors.tasks import BadCursor, cursor_decode, cursor_encode

__all__ = [
    "BadCursor",
    "NotificationPage",
    "notification_page",
    "notifications_mark_read",
    "notify",
    "unread_count",
    "users_holding",
]

EMAIL_CHANNEL = "email"
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


# --- writing ---------------------------------------------------------------------------------


def _recipients(users: Iterable) -> list[tuple[int, str]]:
    """(id, email) of the distinct active users among `users` (User objects, ids or a
    queryset of users), in id order: one query whatever their number."""
    User = get_user_model()
    if isinstance(users, QuerySet):
        rows = users.filter(is_active=True)
    else:
        ids = {u.pk if isinstance(u, AbstractBaseUser) else int(u) for u in users}
        rows = User.objects.filter(pk__in=ids, is_active=True)
    return list(rows.order_by("pk").distinct().values_list("pk", "email"))


def _email_body(body: str, case: Case | None) -> str:
    """The notification text as plain email: no links (the worker knows no site address)."""
    parts = [body.strip()] if body.strip() else []
    if case is not None:
        parts.append(_("Case: %(number)s") % {"number": case.number})
    parts.append("-- \n" + _("A copy of your CityOps notification. Open CityOps to act on it."))
    return "\n\n".join(parts)


def notify(
    *,
    users: Iterable,
    kind: str,
    title: str,
    body: str = "",
    case: Case | None = None,
    email: bool = True,
) -> list[Notification]:
    """One notification per distinct active user and, if `email`, one outbox email per user
    with an address; written in the caller's transaction, sent by the outbox worker after
    commit. Three queries whatever the number of users."""
    recipients = _recipients(users)
    if not recipients:
        return []
    # A too-long title must not fail (and roll back) the state change that notifies.
    title = title[: Notification._meta.get_field("title").max_length]
    now = timezone.now()
    # Joins the caller's transaction (no savepoint); alone it makes both inserts one commit.
    with transaction.atomic(savepoint=False):
        notifications = Notification.objects.bulk_create(
            Notification(user_id=pk, kind=kind, title=title, body=body, case=case, created_at=now)
            for pk, _email in recipients
        )
        if email:
            _queue_emails(notifications, dict(recipients), title, _email_body(body, case), now)
    return notifications


@dataclass(frozen=True)
class Notice:
    """One notification to send to some users (see `notify_many`)."""

    users: tuple  # User objects or ids
    kind: str
    title: str
    body: str = ""
    case: Case | None = None
    email: bool = True


def notify_many(notices: list[Notice]) -> list[Notification]:
    """`notify` for many notices at once (the SLA sweep): three queries whatever their
    number, in the caller's transaction."""
    wanted = [
        {u.pk if isinstance(u, AbstractBaseUser) else int(u) for u in n.users} for n in notices
    ]
    ids = set().union(*wanted)
    if not ids:
        return []
    addresses = dict(
        get_user_model().objects.filter(pk__in=ids, is_active=True).values_list("pk", "email")
    )
    now, limit = timezone.now(), Notification._meta.get_field("title").max_length
    rows, texts = [], []
    for notice, users in zip(notices, wanted, strict=True):
        text = _email_body(notice.body, notice.case) if notice.email else None
        for pk in sorted(users & addresses.keys()):
            rows.append(
                Notification(
                    user_id=pk,
                    kind=notice.kind,
                    title=notice.title[:limit],
                    body=notice.body,
                    case=notice.case,
                    created_at=now,
                )
            )
            texts.append(text)
    with transaction.atomic(savepoint=False):
        created = Notification.objects.bulk_create(rows)
        OutboxMessage.objects.bulk_create(
            _email(n, addresses[n.user_id], n.title, text, now)
            for n, text in zip(created, texts, strict=True)
            if text is not None and addresses[n.user_id]
        )
    return created


def _email(n: Notification, address: str, title: str, text: str, now) -> OutboxMessage:
    return OutboxMessage(
        channel=EMAIL_CHANNEL,
        payload={
            "to": [address],
            "subject": " ".join(title.split()),
            "body": text,
            "notification": n.pk,
        },
        created_at=now,
        available_at=now,
    )


def _queue_emails(
    notifications: list[Notification],
    addresses: dict[int, str],
    title: str,
    text: str,
    now: dt.datetime,
) -> None:
    OutboxMessage.objects.bulk_create(
        _email(n, addresses[n.user_id], title, text, now)
        for n in notifications
        if addresses[n.user_id]
    )


def notifications_mark_read(*, actor, ids: list[int] | None) -> int:
    """Mark the actor's own unread notifications read (`ids=None`: all of them); returns how
    many changed. Other users' ids are ignored, exactly like ids that do not exist."""
    rows = Notification.objects.filter(user=actor, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=set(ids))
    return rows.update(read_at=timezone.now())


# --- reading ---------------------------------------------------------------------------------


def unread_count(user, *, cap: int | None = None) -> int:
    """How many unread notifications the user has (a count over the partial unread index);
    with `cap`, counting stops there (the bell shows "99+")."""
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if cap is not None:
        rows = rows.order_by()[:cap]
    return rows.count()


@dataclass(frozen=True)
class NotificationPage:
    rows: list[Notification]
    next_cursor: str | None


def notification_page(
    user, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> NotificationPage:
    """One page of the user's notifications, newest first, keyset-paged on the
    (user, created_at, id) index. Raises BadCursor for a cursor we did not make."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    rows = (
        Notification.objects.filter(user=user)
        .select_related("case")
        .only("kind", "title", "body", "created_at", "read_at", "case", "case__number")
        .order_by("-created_at", "-id")
    )
    if cursor:
        when, pk = cursor_decode(cursor)
        rows = rows.filter(TupleLessThan(Tuple(F("created_at"), F("id")), (when, pk)))
    found = list(rows[: limit + 1])
    if len(found) <= limit:
        return NotificationPage(found, None)
    last = found[limit - 1]
    return NotificationPage(found[:limit], cursor_encode(last.created_at, last.pk))


# --- recipients ------------------------------------------------------------------------------


def _strict_ancestor_ids(unit_ids: set[int]) -> set[int]:
    """Every unit above the given ones (one query over the small unit table)."""
    parent_of = dict(Unit.objects.values_list("id", "parent_id"))
    found: set[int] = set()
    for uid in unit_ids:
        parent = parent_of.get(uid)
        while parent is not None and parent not in found:
            found.add(parent)
            parent = parent_of.get(parent)
    return found


def users_holding(role: str, unit_ids: Iterable[int]) -> QuerySet:
    """Active users holding `role` in one of the units, or in a unit above one of them with a
    membership that includes sub-units; each user once."""
    units = set(unit_ids)
    User = get_user_model()
    if not units:
        return User.objects.none()
    where = Q(unit_id__in=units)
    above = _strict_ancestor_ids(units) - units
    if above:
        where |= Q(unit_id__in=above, include_subunits=True)
    holds = Membership.objects.filter(where, user=OuterRef("pk"), role=role)
    return User.objects.filter(Exists(holds), is_active=True).order_by("pk")
