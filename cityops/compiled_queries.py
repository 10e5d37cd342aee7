"""Statements built once and then only bound to new values: the locked re-read and the
row writes of every transition.

For the few reads that run on every transition (the locked re-read of a task with its flow
task, process and case), compiling the query costs Django more than running it: about
0.7 ms of the 1.4 ms, measured with bench/lifecycle.py. `CompiledGet` keeps the SQL, the
select list and the row converters of one queryset shape (Django recomputes the
converters of a hundred columns on every run) and fills model instances exactly
as Django's ModelIterable does (select_related objects and annotations included).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar

from django.db import DatabaseError, NotSupportedError, connections, router
from django.db.models import NOT_PROVIDED, Model, QuerySet
from django.db.models.query import get_related_populators

M = TypeVar("M", bound=Model)
# Stands for the looked-up value while compiling; found again among the parameters.
PLACEHOLDER = -7_340_032_917_340_032


@dataclass
class _Compiled:
    compiler: Any
    sql: str
    params: tuple
    slot: int
    init_list: list[str]
    bounds: tuple[int, int]
    converters: dict
    populators: list
    annotations: dict[str, int]


class CompiledGet(Generic[M]):
    """`build(value)` gives the queryset; `get(value)` (exactly one row) and `first(value)`
    (the first row or None) run it, compiled once per thread."""

    def __init__(self, build: Callable[[int], QuerySet[M]]) -> None:
        self._build = build
        self._local = threading.local()

    def get(self, value: int) -> M:
        compiled = self._compiled()
        rows = self._rows(compiled, value, 2)
        if len(rows) != 1:
            model = compiled.compiler.klass_info["model"]
            raise model.DoesNotExist if not rows else model.MultipleObjectsReturned
        return self._instance(compiled, rows[0])

    def first(self, value: int) -> M | None:
        """The first row (in the queryset's order), or None: `queryset.first()`."""
        compiled = self._compiled()
        rows = self._rows(compiled, value, 1)
        return self._instance(compiled, rows[0]) if rows else None

    @staticmethod
    def _rows(compiled: _Compiled, value: int, most: int) -> list:
        params = list(compiled.params)
        params[compiled.slot] = value
        with compiled.compiler.connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            return cursor.fetchmany(most)

    @staticmethod
    def _instance(compiled: _Compiled, row) -> M:
        compiler, model = compiled.compiler, compiled.compiler.klass_info["model"]
        if compiled.converters:
            row = next(iter(compiler.apply_converters([row], compiled.converters)))
        start, end = compiled.bounds
        obj = model.from_db(compiler.using, compiled.init_list, row[start:end])
        for populator in compiled.populators:
            populator.populate(row, obj)
        for name, position in compiled.annotations.items():
            setattr(obj, name, row[position])
        return obj

    def _compiled(self) -> _Compiled:
        compiled = getattr(self._local, "compiled", None)
        if compiled is None:
            compiled = self._local.compiled = self._compile()
        return compiled

    def _compile(self) -> _Compiled:
        queryset = self._build(PLACEHOLDER)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        if list(params).count(PLACEHOLDER) != 1:
            raise ValueError("The queryset must use the looked-up value exactly once.")
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        if compiler.has_composite_fields([s[0] for s in select]):
            raise ValueError("Composite fields are not supported.")
        return _Compiled(
            compiler=compiler,
            sql=sql,
            params=tuple(params),
            slot=list(params).index(PLACEHOLDER),
            init_list=[f[0].target.attname for f in select[start:end]],
            bounds=(start, end),
            converters=compiler.get_converters([s[0] for s in select[: compiler.col_count]]),
            populators=get_related_populators(klass_info, select, queryset.db),
            annotations=dict(compiler.annotation_col_map or {}),
        )


# --- writes ------------------------------------------------------------------------------
#
# Model.save() rebuilds its UPDATE or INSERT (a filter on the primary key, a compiler) for
# every row: 0.33 ms of CPU for a three-column UPDATE against 0.11 ms for the same statement
# built once (bench/lifecycle.py's machine). The transitions write about eight rows per task,
# so their own rows go through these two functions. They write what save() would write
# (pre_save runs: auto_now stamps, foreign keys by id) but send no pre_save/post_save
# signals: use them only for models nothing listens to (tests/test_compiled_queries.py
# checks the ones the services use).


def save_fields(obj: Model, fields: Sequence[str]) -> None:
    """`obj.save(update_fields=fields)`, with the statement built once per shape."""
    connection = connections[router.db_for_write(type(obj), instance=obj)]
    sql, targets = _update_statement(type(obj), tuple(fields))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_save_values(obj, targets, connection, False), obj.pk])
        if cursor.rowcount != 1:
            raise DatabaseError("Save with update_fields did not affect any rows.")


def save_fields_with(obj: Model, fields: Sequence[str], other: Model, others: Sequence[str]):
    """save_fields(obj, fields) and save_fields(other, others) in one round trip on PostgreSQL
    (the first UPDATE a data-modifying CTE of the second), one after the other elsewhere."""
    alias = router.db_for_write(type(obj), instance=obj)
    connection = connections[alias]
    if connection.vendor != "postgresql" or router.db_for_write(type(other)) != alias:
        save_fields(obj, fields)
        save_fields(other, others)
        return
    first, first_targets = _update_statement(type(obj), tuple(fields))
    second, second_targets = _update_statement(type(other), tuple(others))
    params = [
        *_save_values(obj, first_targets, connection, False),
        obj.pk,
        *_save_values(other, second_targets, connection, False),
        other.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH first AS ({first} RETURNING 1) {second} RETURNING (SELECT count(*) FROM first)",
            params,
        )
        if cursor.fetchall() != [(1,)]:
            raise DatabaseError("Save with update_fields did not affect any rows.")


def insert(obj: M) -> M:
    """`obj.save(force_insert=True)` for a new row, with the statement built once per model.
    The new id comes back through RETURNING when the model's key is generated."""
    alias = router.db_for_write(type(obj), instance=obj)
    if obj.pk is None and not connections[alias].features.can_return_columns_from_insert:
        obj.save(force_insert=True, using=alias)
        return obj
    return PendingInsert(obj).send()


def insert_saving(obj: M, *saves: tuple[Model, Sequence[str]]) -> M:
    """`insert(obj)` and `save_fields(row, fields)` for each (row, fields) of `saves`, in one
    statement on PostgreSQL (the UPDATEs data-modifying CTEs of the INSERT), the UPDATEs and
    then the INSERT elsewhere. The rows must be distinct (the CTEs see one snapshot): what a
    transition writes last, its case and order with its audit event."""
    alias = router.db_for_write(type(obj), instance=obj)
    connection = connections[alias]
    if (
        not saves
        or connection.vendor != "postgresql"
        or any(router.db_for_write(type(row), instance=row) != alias for row, _ in saves)
    ):
        for row, fields in saves:
            save_fields(row, fields)
        return insert(obj)
    parts, params = [], []
    for n, (row, fields) in enumerate(saves):
        sql, targets = _update_statement(type(row), tuple(fields))
        parts.append(f"u{n} AS ({sql} RETURNING 1)")
        params.extend([*_save_values(row, targets, connection, False), row.pk])
    generated = obj.pk is None
    sql, targets = _insert_statement(type(obj), generated)
    params.extend(_save_values(obj, targets, connection, True))
    counts = ", ".join(f"(SELECT count(*) FROM u{n})" for n in range(len(saves)))
    returning = f"{sql}, {counts}" if generated else f"{sql} RETURNING {counts}"
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} {returning}", params)
        row = cursor.fetchone()
    if generated:
        obj.pk, *row = row
    if any(n != 1 for n in row):
        raise DatabaseError("Save with update_fields did not affect any rows.")
    _saved(obj, alias)
    return obj


class PendingInsert(Generic[M]):
    """A new row whose INSERT is sent later, with the rows that refer to it: its values are
    taken now (pre_save runs: an auto_now_add stamp is on the object from here on), and
    `send(*dependents)` writes it and them in one statement on PostgreSQL (data-modifying
    CTEs reading the new key), one each elsewhere."""

    def __init__(self, obj: M) -> None:
        self.obj, self.alias = obj, router.db_for_write(type(obj), instance=obj)
        connection = connections[self.alias]
        self.generated = obj.pk is None
        if self.generated and not connection.features.can_return_columns_from_insert:
            raise NotSupportedError("insert() needs INSERT … RETURNING for a generated key.")
        self.sql, targets = _insert_statement(type(obj), self.generated)
        self.values = _save_values(obj, targets, connection, True)

    def send(self, *dependents: tuple[Model, str]) -> M:
        """Insert the row, then each dependent row, given as (row, name of its foreign key
        to this row): that key is filled with the new row's, and a dependent's own generated
        key is set on it as well."""
        obj, connection = self.obj, connections[self.alias]
        if not dependents or connection.vendor != "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(self.sql, self.values)
                if self.generated:
                    obj.pk = cursor.fetchone()[0]
            _saved(obj, self.alias)
            for row, key in dependents:
                setattr(row, type(row)._meta.get_field(key).attname, obj.pk)
                insert(row)
            return obj
        key_of = _quote(type(obj)._meta.pk.column)
        own = self.sql if self.generated else f"{self.sql} RETURNING {key_of}"
        parts, params = [f"WITH new AS ({own})"], list(self.values)
        keys = [f"(SELECT {key_of} FROM new)"]
        for n, (row, key) in enumerate(dependents):
            sql, values = _insert_from_new(row, key, type(obj), connection)
            parts.append(f", d{n} AS ({sql})")
            keys.append(f"(SELECT {_quote(type(row)._meta.pk.column)} FROM d{n})")
            params.extend(values)
        parts.append(f" SELECT {', '.join(keys)}")
        with connection.cursor() as cursor:
            cursor.execute("".join(parts), params)
            obj.pk, *row_keys = cursor.fetchone()
        _saved(obj, self.alias)
        for (row, key), row_key in zip(dependents, row_keys, strict=True):
            setattr(row, type(row)._meta.get_field(key).attname, obj.pk)
            row.pk = row_key
            _saved(row, self.alias)
        return obj


def _saved(obj: Model, alias: str) -> None:
    obj._state.adding, obj._state.db = False, alias


def _save_values(obj: Model, targets: list, connection, add: bool) -> list:
    return [f.get_db_prep_save(f.pre_save(obj, add), connection) for f in targets]


def _insert_from_new(row: Model, key: str, parent: type[Model], connection):
    """The INSERT of `row` with its foreign key `key` read from the CTE `new` (the parent
    row's INSERT … RETURNING its key), and the values of its other columns."""
    sql, targets = _dependent_statement(type(row), key, parent)
    return sql, _save_values(row, targets, connection, True)


@lru_cache(maxsize=16)
def _dependent_statement(model: type[Model], key: str, parent: type[Model]):
    meta = model._meta
    generated_pk = meta.pk.name != key  # a key of its own: left to the database
    targets = [
        f
        for f in meta.local_concrete_fields
        if not (generated_pk and f is meta.pk) and not getattr(f, "generated", False)
    ]
    _check(model, targets)
    new_key = f"(SELECT {_quote(parent._meta.pk.column)} FROM new)"
    columns = ", ".join(_quote(f.column) for f in targets)
    values = ", ".join(new_key if f.name == key else "%s" for f in targets)
    sql = f"INSERT INTO {_quote(meta.db_table)} ({columns}) VALUES ({values})"
    # The statement, and the fields whose values it takes (all but the key read from `new`).
    return f"{sql} RETURNING {_quote(meta.pk.column)}", [f for f in targets if f.name != key]


def reserve_id(model: type[Model]) -> int | None:
    """A new id for a `model` row not written yet, taken from its key's sequence (PostgreSQL;
    None elsewhere). A row written before the one it refers to can then carry that id in its
    INSERT (foreign keys are checked at commit), instead of an UPDATE once the id is known."""
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(_nextval_statement(model, alias))
        return cursor.fetchone()[0]


@lru_cache(maxsize=16)
def _nextval_statement(model: type[Model], alias: str) -> str:
    meta = model._meta
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [meta.db_table, meta.pk.column])
        (sequence,) = cursor.fetchone()
    if sequence is None:
        raise ValueError(f"{model.__name__}: its key has no sequence.")
    return "SELECT nextval('{}')".format(sequence.replace("'", "''"))


@lru_cache(maxsize=64)
def _update_statement(model: type[Model], names: tuple[str, ...]) -> tuple[str, list]:
    meta = model._meta
    targets = [meta.get_field(name) for name in names]
    _check(model, targets)
    assignments = ", ".join(f"{_quote(f.column)} = %s" for f in targets)
    sql = f"UPDATE {_quote(meta.db_table)} SET {assignments} WHERE {_quote(meta.pk.column)} = %s"
    return sql, targets


@lru_cache(maxsize=64)
def _insert_statement(model: type[Model], generated_pk: bool) -> tuple[str, list]:
    meta = model._meta
    # Generated columns are left to the database, as Django's save() does (read on access).
    targets = [
        f
        for f in meta.local_concrete_fields
        if not (generated_pk and f is meta.pk) and not getattr(f, "generated", False)
    ]
    _check(model, targets)
    columns = ", ".join(_quote(f.column) for f in targets)
    values = ", ".join(["%s"] * len(targets))
    sql = f"INSERT INTO {_quote(meta.db_table)} ({columns}) VALUES ({values})"
    if generated_pk:
        sql += f" RETURNING {_quote(meta.pk.column)}"
    return sql, targets


def _check(model: type[Model], fields: list) -> None:
    """Refuse fields whose SQL Django's compiler writes itself (custom placeholders, database
    defaults, generated columns) instead of a plain parameter."""
    special = [
        f.name
        for f in fields
        if hasattr(f, "get_placeholder")
        or getattr(f, "generated", False)
        or f.db_default is not NOT_PROVIDED
    ]
    if special:
        raise ValueError(f"{model.__name__}: {', '.join(special)} need Django's own save().")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'  # PostgreSQL and SQLite quote alike
