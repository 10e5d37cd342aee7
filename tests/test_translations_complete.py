"""Every msgid the project uses has a zh-hans translation (the interface is never mixed).

The msgids are extracted as a translator would: Django's makemessages (xgettext) over a copy of
the project's Python files and templates in a temporary folder, so the repository's own
locale files are never touched. Each msgid found must have a non-empty, non-fuzzy msgstr in
locale/zh_Hans/LC_MESSAGES/django.po (and every plural form of a plural entry). A failure lists
the missing msgids with where they are used, ready to append to the .po file.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# Where user-visible text lives: the apps' Python and the templates. Tests, the benchmark and
# migrations are not the interface.
SOURCES = ("cityops", "departments", "workflows", "indicators", "intelligence", "operations",
           "templates")  # fmt: skip
SKIP_PARTS = {"migrations", "__pycache__", "static", "node_modules"}
SUFFIXES = {".py", ".html", ".txt"}


def _copy_sources(target: Path) -> int:
    copied = 0
    for name in SOURCES:
        for path in (ROOT / name).rglob("*") if (ROOT / name).is_dir() else ():
            relative = path.relative_to(ROOT)
            if path.suffix not in SUFFIXES or SKIP_PARTS & set(relative.parts):
                continue
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
            copied += 1
    return copied


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> polib.POFile:
    """The project's msgids, freshly extracted (never written into the repository)."""
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext (xgettext) is needed: apt-get install gettext")
    work = tmp_path_factory.mktemp("makemessages")
    assert _copy_sources(work) > 0
    (work / "locale").mkdir()
    cwd = Path.cwd()
    try:
        os.chdir(work)
        with override_settings(LOCALE_PATHS=[str(work / "locale")]):
            call_command(
                "makemessages",
                locale=["zh_Hans"],
                domain="django",
                no_location=False,
                no_obsolete=True,
                verbosity=0,
                extensions=["html", "txt", "py"],
            )
    finally:
        os.chdir(cwd)
    return polib.pofile(str(work / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))


def _translated(entry: polib.POEntry | None) -> bool:
    if entry is None or entry.obsolete or "fuzzy" in entry.flags:
        return False
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def test_extraction_finds_the_projects_strings(extracted):
    msgids = {entry.msgid for entry in extracted}
    assert "Shift leader" in msgids and "Log in" in msgids  # Python and a template


def test_every_msgid_has_a_chinese_translation(extracted):
    catalogue = polib.pofile(str(PO))
    ours = {(e.msgctxt, e.msgid): e for e in catalogue if not e.obsolete}
    missing = [
        entry
        for entry in extracted
        if entry.msgid and not _translated(ours.get((entry.msgctxt, entry.msgid)))
    ]
    report = "\n".join(
        f"  {entry.msgid!r}"
        + (f" (plural {entry.msgid_plural!r})" if entry.msgid_plural else "")
        + (f" [context {entry.msgctxt!r}]" if entry.msgctxt else "")
        + f"  — used in {', '.join(sorted({path for path, _line in entry.occurrences})[:3])}"
        for entry in missing
    )
    if missing:
        pytest.fail(
            f"{len(missing)} msgid(s) have no zh-hans translation in {PO.relative_to(ROOT)}; "
            f"append them (then compilemessages -l zh_Hans):\n{report}",
            pytrace=False,
        )


def test_no_msgid_is_defined_twice():
    """Parallel branches append to one file: a msgid both added breaks compilemessages."""
    seen: dict[tuple, int] = {}
    for entry in polib.pofile(str(PO)):
        if not entry.obsolete:
            key = (entry.msgctxt, entry.msgid)
            seen[key] = seen.get(key, 0) + 1
    twice = sorted(msgid for (_ctxt, msgid), count in seen.items() if count > 1)
    if twice:
        pytest.fail(
            f"{len(twice)} msgid(s) appear more than once in {PO.relative_to(ROOT)}; keep one "
            "entry each:\n" + "\n".join(f"  {msgid!r}" for msgid in twice),
            pytrace=False,
        )


EN_PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_the_english_interface_is_english_only(extracted):
    """A msgid carrying a Chinese term ("Filed (立案)") is English plus Chinese: the English
    catalogue gives it an English-only text."""
    english = {(e.msgctxt, e.msgid): e for e in polib.pofile(str(EN_PO)) if not e.obsolete}
    mixed = []
    for entry in extracted:
        if not CHINESE.search(entry.msgid):
            continue
        found = english.get((entry.msgctxt, entry.msgid))
        texts = list(found.msgstr_plural.values()) if found and found.msgid_plural else []
        texts = texts or [found.msgstr if found else ""]
        if not all(texts) or any(CHINESE.search(text) for text in texts):
            mixed.append(f"  {entry.msgid!r}")
    if mixed:
        pytest.fail(
            f"{len(mixed)} msgid(s) carry Chinese but have no English-only text in "
            f"{EN_PO.relative_to(ROOT)}; append them (then compilemessages -l en):\n"
            + "\n".join(mixed),
            pytrace=False,
        )
