"""The repository carries everything its tests and commands read: a clone with nothing beside it
must pass `make test` (CI runs from such a clone)."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Spelled in pieces so that this file does not match itself.
OUTSIDE = ("../" + "shared", "shared/" + "reference")
READ_AS_CODE = (".py", ".toml", ".cfg", ".ini", ".sh", ".html", "Makefile", "Procfile", "run")


def _tracked_code() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / n for n in names if n.endswith(READ_AS_CODE)]


def test_no_tracked_file_reads_outside_the_repository():
    files = _tracked_code()
    assert files, "git ls-files listed no code: the scan would prove nothing"
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(marker in line for marker in OUTSIDE)
    ]
    assert offenders == []


def test_vendored_open311_schemas_are_present():
    schemas = ROOT / "tests/fixtures/open311"
    names = {p.name for p in schemas.glob("*.json")}
    assert {"request.json", "requests.json", "service.json", "services.json"} <= names
    assert "Source" in (schemas / "README.md").read_text(encoding="utf-8")
