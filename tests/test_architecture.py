"""The import graph keeps the architecture honest (README, "Architecture").

Every module of the project's packages is read with `ast` (nothing is imported): imports at any
level count, module-level or inside a function, absolute or relative (`from . import x`), and
importing `a.b.c` also runs the packages `a.b` and `a` above it. Three rules:

(a) no import circles between modules;
(b) no upward arrows: each module sits in a layer of LAYERS and imports only its own layer or
    layers below (models ← sla ← selectors ← services ← flows ← interfaces), the organisation
    app (departments) imports nothing of the engine, and an app's interfaces (pages, API,
    admin, commands) are imported by no other app (only the project's urls wire them);
(c) no module uses another module's `_private` name (imported, or read as `module._name`).

KNOWN_VIOLATIONS lists what is still wrong until the core half of issue 9 lands; an entry that
no longer happens fails too, so that the list shrinks to nothing.
"""

from __future__ import annotations

import ast
import fnmatch
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cityops", "departments", "workflows", "indicators", "intelligence", "operations")
ENGINE = ("workflows", "indicators", "intelligence")

# Lowest first: (layer, the modules in it as fnmatch patterns of dotted names). A module is in
# the layer of the most specific pattern that matches it (the longest part before any `*`:
# `indicators.views.*` wins over `indicators.*`), the lower layer on a tie.
LAYERS: list[tuple[str, str]] = [
    # Project plumbing every app may use: settings, the database backend, compiled statements,
    # the job registry, the Celery app (the package's __init__ loads it; it finds the jobs by
    # name, not by import).
    ("project base", "cityops cityops.settings cityops.compiled_queries cityops.sql_rows "
                     "cityops.periodic cityops.celery cityops.staticfiles cityops.tabular "
                     "cityops.commands cityops.display cityops.labels cityops.clientip "
                     "cityops.lockout cityops.db*"),
    # Operations: the periodic jobs' run records and the health checks (reads project base).
    ("operations", "operations operations.models operations.migrations* operations.runs "
                   "operations.health"),
    # The organisation: units, roles, calendars (pure calculation), reference snapshots; then
    # its reads (the staff scope), its services.
    ("departments models", "departments departments.models departments.migrations* "
                           "departments.signals departments.calendars departments.reference "
                           "departments.geojson"),
    ("departments selectors", "departments.selectors departments.access"),
    ("departments services", "departments.services departments.demo "
                             "departments.masterdata"),
    # The engine's tables, and the stage policy table the services and pages read (the flows
    # package itself imports nothing: its flows register themselves when the app is ready).
    ("workflows models", "workflows workflows.models workflows.models.* workflows.migrations* "
                         "workflows.flows workflows.flows.stages"),
    # Pure SLA calculation: deadlines, pauses, state, thresholds (models and departments only).
    ("workflows sla", "workflows.sla workflows.sla.*"),
    # Reads, the access rules that reads and actions share, and the hand-written statements
    # (workflows/sql/, one module per concern).
    ("workflows selectors", "workflows.access workflows.selectors workflows.selectors.* "
                            "workflows.sql workflows.sql.*"),
    # State changes and their side effects: events, outbox, webhooks, API keys, idempotency.
    ("workflows services", "workflows.services workflows.services.* workflows.outbox "
                           "workflows.integrations workflows.integrations.* workflows.demo"),
    # Viewflow flows are declarative; their callbacks call services.
    ("workflows flows", "workflows.flows.*"),
    # Apps built on the engine read its models and selectors and call its public services.
    ("indicators and intelligence models", "indicators.models indicators.models.* "
                                           "indicators.migrations* intelligence.models "
                                           "intelligence.models.* intelligence.migrations* "
                                           # pure calculation (numpy): the breach model
                                           "intelligence.breach_model intelligence.worktime"),
    ("indicators and intelligence selectors", "indicators.registry indicators.selectors "
                                              "indicators.selectors.* intelligence.selectors "
                                              "intelligence.selectors.*"),
    ("indicators and intelligence services", "indicators indicators.* intelligence "
                                             "intelligence.*"),
    # Thin interfaces: parse the request, call one service or selector, render. Pages and API
    # views of the engine may call the public functions of indicators and intelligence.
    ("interfaces", "departments.admin departments.admin_io departments.apps departments.checks "
                   "departments.management departments.management.* "
                   "workflows.views workflows.views.* workflows.api workflows.api.* "
                   "workflows.open311 workflows.open311.* workflows.templatetags "
                   "workflows.templatetags.* workflows.management workflows.management.* "
                   "workflows.forms workflows.urls workflows.admin workflows.apps "
                   "workflows.context_processors workflows.converters workflows.shortcuts "
                   "indicators.views indicators.views.* indicators.api indicators.api.* "
                   "indicators.urls indicators.admin indicators.apps indicators.management* "
                   "indicators.templatetags indicators.templatetags.* "
                   "intelligence.api intelligence.api.* intelligence.urls intelligence.admin "
                   "intelligence.apps intelligence.management* intelligence.views "
                   "intelligence.views.* intelligence.presenters intelligence.templatetags* "
                   "operations.views "
                   "operations.apps operations.admin"),
    # The project wires the apps together.
    ("project top", "cityops.urls cityops.wsgi cityops.asgi"),
]  # fmt: skip
INTERFACES = "interfaces"

# What is still wrong (entries are (rule, importer, imported); a circle is ("circle", its first
# module, all its modules)): nothing since the core half of issue 9. Keep it empty.
KNOWN_VIOLATIONS: set[tuple[str, str, str]] = set()


# --- reading the graph ------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # the project module whose code runs
    line: int
    name: str | None = None  # the name taken from it (`from target import name`)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        if (ROOT / package).is_dir():
            for path in (ROOT / package).rglob("*.py"):
                found[_module_name(path)] = path
    return found


def _ours(dotted: str) -> str | None:
    """The longest prefix of `dotted` that is one of our modules (None for other code)."""
    parts = dotted.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules():
            return candidate
        parts.pop()
    return None


def _base(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = importer.split(".")
    if modules()[importer].name != "__init__.py":
        parts.pop()
    package = ".".join(parts[: len(parts) - (node.level - 1)])
    return f"{package}.{node.module}" if node.module else package


def _parsed(name: str) -> ast.Module:
    return ast.parse(modules()[name].read_text(encoding="utf-8"), filename=str(modules()[name]))


@cache
def imports_of(name: str) -> tuple[Import, ...]:
    """Every import of project code in the module, at any level of the code."""
    found: list[Import] = []
    for node in ast.walk(_parsed(name)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _ours(alias.name)
                if target:
                    found.append(Import(name, target, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = _base(name, node)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules():
                    found.append(Import(name, submodule, node.lineno))
                elif (target := _ours(base)) is not None:
                    found.append(Import(name, target, node.lineno, alias.name))
    return tuple(found)


def _packages_above(target: str, importer: str) -> list[str]:
    """Packages whose __init__ runs when `target` is imported (not the importer's own)."""
    parts, above = target.split("."), []
    for end in range(1, len(parts)):
        package = ".".join(parts[:end])
        own = importer == package or importer.startswith(package + ".")
        if package in modules() and not own:
            above.append(package)
    return above


@cache
def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in modules()}
    for name in modules():
        for imp in imports_of(name):
            if imp.target != name:
                edges[name].add(imp.target)
                edges[name].update(_packages_above(imp.target, name))
    return edges


def circles() -> list[tuple[str, ...]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph()[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(tuple(sorted(group)))

    for node in sorted(graph()):
        if node not in index:
            visit(node)
    return sorted(found)


def layer_of(name: str) -> int:
    matches = [
        (len(pattern.split("*", 1)[0]), -rank)
        for rank, (_label, patterns) in enumerate(LAYERS)
        for pattern in patterns.split()
        if fnmatch.fnmatchcase(name, pattern)
    ]
    if not matches:
        raise LookupError(f"{name} is in no layer: add it to LAYERS in {Path(__file__).name}")
    return -max(matches)[1]


def _app(name: str) -> str:
    return name.split(".", 1)[0]


def _points_up(name: str, target: str) -> bool:
    if layer_of(target) > layer_of(name):
        return True
    if _app(name) == "departments" and _app(target) in ENGINE:
        return True  # the organisation knows nothing of the engine, at any layer
    into_interfaces = LAYERS[layer_of(target)][0] == INTERFACES and _app(target) != _app(name)
    return into_interfaces and LAYERS[layer_of(name)][0] != "project top"


def upward_arrows() -> set[tuple[str, str, str]]:
    return {
        ("upward", name, target)
        for name in modules()
        for target in graph()[name]
        if _points_up(name, target)
    }


def private_uses() -> set[tuple[str, str, str]]:
    """`from m import _name`, and `m._name` where `m` is a project module bound by an import."""
    found = set()
    for name in modules():
        bound: dict[str, str] = {}
        for imp in imports_of(name):
            if imp.name is not None and _private(imp.name) and imp.target != name:
                found.add(("private", name, f"{imp.target}.{imp.name}"))
        for node in ast.walk(_parsed(name)):
            if isinstance(node, ast.Import | ast.ImportFrom):
                bound.update(_bound_modules(name, node))
        for node in ast.walk(_parsed(name)):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in bound
                and _private(node.attr)
                and bound[node.value.id] != name
            ):
                found.add(("private", name, f"{bound[node.value.id]}.{node.attr}"))
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _bound_modules(name: str, node: ast.Import | ast.ImportFrom) -> dict[str, str]:
    """Local names the import statement binds to project modules."""
    bound = {}
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname and alias.name in modules():
                bound[alias.asname] = alias.name
        return bound
    base = _base(name, node)
    for alias in node.names:
        if f"{base}.{alias.name}" in modules():
            bound[alias.asname or alias.name] = f"{base}.{alias.name}"
    return bound


def violations() -> set[tuple[str, str, str]]:
    found = {("circle", group[0], " ⇄ ".join(group)) for group in circles()}
    return found | upward_arrows() | private_uses()


# --- the rules --------------------------------------------------------------------------------


def test_the_scan_reads_the_project():
    """The scan finds the packages and their imports (an empty scan would prove nothing)."""
    assert {"workflows.models", "departments.models", "cityops.settings"} <= set(modules())
    assert len(modules()) > 80
    assert sum(len(imports_of(name)) for name in modules()) > 300


def test_every_module_has_a_layer():
    assert [name for name in sorted(modules()) if _layer_or_none(name) is None] == []


def _layer_or_none(name: str) -> int | None:
    try:
        return layer_of(name)
    except LookupError:
        return None


@pytest.mark.parametrize("rule", ["circle", "upward", "private"])
def test_no_new_violations(rule):
    found = {v for v in violations() if v[0] == rule}
    new = sorted(found - KNOWN_VIOLATIONS)
    assert new == [], "\n".join(" ".join(v) for v in new)


def test_known_violations_still_happen():
    """A fixed violation leaves KNOWN_VIOLATIONS too (delete its entry)."""
    assert sorted(KNOWN_VIOLATIONS - violations()) == []


# --- the scan itself can fail: a small tree with one fault of each kind ---------------------


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A throw-away project tree the scan reads instead of the real one."""
    caches = (modules, imports_of, graph)
    for cached in caches:
        cached.cache_clear()
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)

    def write(files: dict[str, str]) -> set[tuple[str, str, str]]:
        for path, text in files.items():
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text(text, encoding="utf-8")
        for cached in caches:
            cached.cache_clear()
        return violations()

    yield write
    for cached in caches:
        cached.cache_clear()


CLEAN_TREE = {
    "workflows/__init__.py": "",
    "workflows/models/__init__.py": "",
    "workflows/models/cases.py": "X = 1\n",
    "workflows/selectors/__init__.py": "",
    "workflows/selectors/cases.py": "from ..models.cases import X\n",
    "workflows/services/__init__.py": "",
    "workflows/services/hotline.py": "from workflows.selectors import cases\n",
    "workflows/views/__init__.py": "",
    "workflows/views/hotline.py": "from ..services.hotline import *\n",
    "departments/__init__.py": "",
    "departments/models.py": "",
    "indicators/__init__.py": "",
    "indicators/reports.py": "from workflows.selectors.cases import X\n",
    "intelligence/__init__.py": "",
    "intelligence/services.py": "from workflows.services import hotline\n",
}


def test_a_clean_tree_passes(tree):
    assert tree(CLEAN_TREE) == set()


def test_a_circle_hidden_in_a_function_fails(tree):
    found = tree(
        {
            **CLEAN_TREE,
            "workflows/services/cases.py": "from .hotline import x\n",
            "workflows/services/hotline.py": "def f():\n    from . import cases\n",
        }
    )
    assert ("circle", "workflows.services.cases", "workflows.services.cases ⇄ "
            "workflows.services.hotline") in found  # fmt: skip


@pytest.mark.parametrize(
    ("importer", "text", "target"),
    [
        # the engine's services reach up into an app built on them
        ("workflows/services/hotline.py", "import indicators.reports\n", "indicators.reports"),
        # a selector imports a page
        ("workflows/selectors/cases.py", "from workflows.views import hotline\n",
         "workflows.views.hotline"),
        # the organisation knows the engine
        ("departments/models.py", "from workflows.models.cases import X\n",
         "workflows.models.cases"),
        # one app's interfaces imported by another app
        ("intelligence/services.py", "from workflows.views.hotline import y\n",
         "workflows.views.hotline"),
    ],
)  # fmt: skip
def test_an_upward_arrow_fails(tree, importer, text, target):
    found = tree({**CLEAN_TREE, importer: text})
    module = importer.removesuffix(".py").replace("/", ".")
    assert ("upward", module, target) in found


def test_a_private_name_from_another_module_fails(tree):
    found = tree(
        {
            **CLEAN_TREE,
            "workflows/selectors/cases.py": "_scope_q = 1\n",
            "indicators/reports.py": "from workflows.selectors.cases import _scope_q\n",
            "workflows/services/hotline.py": (
                "from workflows.selectors import cases\nY = cases._scope_q\n"
            ),
        }
    )
    assert {
        ("private", "indicators.reports", "workflows.selectors.cases._scope_q"),
        ("private", "workflows.services.hotline", "workflows.selectors.cases._scope_q"),
    } <= found


def test_the_new_apps_and_the_hotline_are_read_in_their_layers():
    """indicators, intelligence and the hotline's modules are scanned, each in its layer."""
    expected = {
        "workflows.models.hotline": "workflows models",
        "workflows.sla.hotline": "workflows sla",
        "workflows.selectors.hotline": "workflows selectors",
        "workflows.services.hotline": "workflows services",
        "workflows.flows.hotline": "workflows flows",
        "workflows.views.hotline": "interfaces",
        "workflows.api.views_hotline": "interfaces",
        "indicators.models": "indicators and intelligence models",
        "indicators.selectors.values": "indicators and intelligence selectors",
        "indicators.reports": "indicators and intelligence services",
        "indicators.views.pages": "interfaces",
        "indicators.templatetags.indicator_tags": "interfaces",
        "intelligence.models": "indicators and intelligence models",
    }
    assert {name: LAYERS[layer_of(name)][0] for name in expected} == expected
    assert {i.target for i in imports_of("indicators.reports")} >= {"workflows.access"}
