"""The rollup (FactRollup): the facts' base counts per day and per month, kept equal to the
facts by the code that writes them, so that the pages read a few hundred rows instead of a
month's facts.

`rollup_apply(old, new)` adds the difference between a set of cases' old and new facts, in the
caller's transaction (facts_replace); `rollup_rebuild` compares the whole rollup with the
facts and, with apply, writes the difference. Which facts the rollup leaves out, and how an
assignment becomes its state steps, is decided here (`fact_entries`) and nowhere else.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from .models import ROLLUP_DIMS, ROLLUP_GRAINS, Fact, FactCursor, FactRollup

BUILT = "rollup"  # FactCursor row present = the rollup is complete (the reads may use it)
SOURCE_FIELDS = (
    "kind",
    "stage",
    "on_time",
    "flag",
    "day",
    "at",
    "due_at",
    "end_at",
    "parked_at",
    "value",
    *ROLLUP_DIMS,
)
_TRI = {True: 1, False: 0, None: -1}
_MICROSECOND = dt.timedelta(microseconds=1)


def excluded(f) -> bool:
    """Whether a fact is left out of the rollup (the twin of models.ROLLUP_EXCLUDED_Q)."""
    return f.parked_at is not None or (
        f.kind == "assignment" and f.end_at is not None and f.end_at < f.at
    )


def fact_entries(f, tz) -> list[tuple]:
    """(kind, stage, on_time, flag, day, value in hundredths) entries of one fact."""
    if excluded(f):
        return []
    if f.kind != "assignment":
        cents = round(f.value * 100) if f.value is not None else 0
        return [(f.kind, f.stage, _TRI[f.on_time], _TRI[f.flag], f.day, cents)]
    out = [("@due+", "", -1, -1, f.day, 0)]
    if f.end_at is not None:
        out.append(("@due-", "", -1, -1, f.end_at.astimezone(tz).date(), 0))
    if f.due_at is not None:
        start = max(f.day, f.due_at.astimezone(tz).date())
        stop = (f.end_at - _MICROSECOND).astimezone(tz).date() if f.end_at else None
        if stop is None or stop > start:
            out.append(("@over+", "", -1, -1, start, 0))
            if stop is not None:
                out.append(("@over-", "", -1, -1, stop, 0))
    return out


def fact_keys(f, tz, grains=ROLLUP_GRAINS):
    """(rollup key, value in hundredths) of every row one fact adds to (FactRollup.KEY order)."""
    for kind, stage, on_time, flag, day, cents in fact_entries(f, tz):
        for grain, dims in grains.items():
            values = tuple((getattr(f, d) or 0) if d in dims else 0 for d in ROLLUP_DIMS)
            for span, when in (("d", day), ("m", day.replace(day=1))):
                yield (grain, span, when, kind, stage, on_time, flag, *values), cents


def _tally(facts, tz, sign: int, into: dict, grains=ROLLUP_GRAINS) -> None:
    for f in facts:
        for key, cents in fact_keys(f, tz, grains):
            n, s = into.get(key, (0, 0))
            into[key] = (n + sign, s + sign * cents)


def old_facts(case_ids) -> list:
    """The stored facts of these cases, as rollup_apply reads them (before they are replaced)."""
    return list(Fact.objects.filter(case_id__in=case_ids).values_list(*SOURCE_FIELDS, named=True))


_COLUMNS = (*FactRollup.KEY, "n", "s")


def _upsert_sql() -> str:
    table = FactRollup._meta.db_table
    key = ", ".join(FactRollup.KEY)
    return (
        f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))}) "
        f"ON CONFLICT ({key}) DO UPDATE SET n = {table}.n + excluded.n, s = {table}.s + excluded.s"
    )


def rollup_apply(old, new) -> int:
    """Add (new − old) facts to the rollup, inside the caller's transaction; returns the rows
    touched. Rows that reach zero facts are deleted."""
    tz = ZoneInfo(settings.TIME_ZONE)
    delta: dict = {}
    _tally(old, tz, -1, delta)
    _tally(new, tz, 1, delta)
    rows = sorted((k + v) for k, v in delta.items() if v != (0, 0))  # fixed order: no deadlocks
    if not rows:
        return 0
    with connection.cursor() as c:
        c.executemany(_upsert_sql(), rows)
        c.execute(f"DELETE FROM {FactRollup._meta.db_table} WHERE n = 0")
    return len(rows)


def rollup_built() -> bool:
    return FactCursor.objects.filter(name=BUILT).exists()


def rollup_rebuild(*, apply: bool = False) -> dict:
    """Compare the rollup with the stored facts, one grain at a time: {"rows", "missing",
    "extra"} (rows that should be there and differ or are absent / rows that should not be).
    With apply the differing rows are written and the rollup is marked complete."""
    tz = ZoneInfo(settings.TIME_ZONE)
    report = {"rows": 0, "missing": 0, "extra": 0}
    for grain, dims in ROLLUP_GRAINS.items():
        want: dict = {}
        facts = Fact.objects.values_list(*SOURCE_FIELDS, named=True).order_by()
        _tally(facts.iterator(chunk_size=20000), tz, 1, want, {grain: dims})
        want = {k: v for k, v in want.items() if v != (0, 0)}
        have, ids = {}, {}
        stored = FactRollup.objects.filter(grain=grain).values_list(*FactRollup.KEY, "id", "n", "s")
        for row in stored.iterator(chunk_size=20000):
            have[row[:-3]], ids[row[:-3]] = (row[-2], row[-1]), row[-3]
        missing = [k for k, v in want.items() if have.get(k) != v]
        extra = [k for k in have if k not in want]
        report["rows"] += len(want)
        report["missing"] += len(missing)
        report["extra"] += len(extra)
        if apply and (missing or extra):
            with transaction.atomic():
                stale = [ids[k] for k in extra] + [ids[k] for k in missing if k in ids]
                for start in range(0, len(stale), 5000):
                    FactRollup.objects.filter(id__in=stale[start : start + 5000]).delete()
                FactRollup.objects.bulk_create(
                    [FactRollup(**dict(zip(_COLUMNS, k + want[k], strict=True))) for k in missing],
                    batch_size=5000,
                )
    if apply:
        FactCursor.objects.get_or_create(name=BUILT)
    return report
