"""The skeleton every reference-data command shares: `import_<what> PATH` and
`export_<what> [PATH]` (categories, units, staff, grid).

An import reads the whole file, checks every row, and writes all of it or nothing; its errors
go to standard error one a line, each naming its line, row or feature, and the command fails
with their count. Large files get a progress bar (rich) on standard error while rows are
checked. An export writes the format its import reads back.

A subclass names its `formats` (the first is the default) and implements `run_import` or
`run_export`; argparse needs plain str, so help texts stay untranslated, as in Django's own
commands.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .tabular import ImportResult, RowsRejected

PROGRESS_FROM_ROWS = 500  # smaller files are done before a bar could tell anything


class _ProgressBar:
    """A Progress callback (done, total) drawing a rich bar once the file is large enough."""

    def __init__(self, stream: Any, label: str) -> None:
        self.stream, self.label = stream, label
        self.bar: Progress | None = None
        self.task = None

    def __call__(self, done: int, total: int) -> None:
        if total < PROGRESS_FROM_ROWS:
            return
        if self.bar is None:
            console = Console(file=self.stream, highlight=False)
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        self.bar.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _format_choice(path: str | None, fmt: str | None, formats: tuple[str, ...]) -> str:
    """An explicit --format wins; then the path's extension if it is one we write."""
    if fmt:
        return fmt
    suffix = Path(path).suffix.lower().lstrip(".") if path else ""
    aliases = {"json": "geojson"} if "geojson" in formats else {}
    suffix = aliases.get(suffix, suffix)
    return suffix if suffix in formats else formats[0]


class ImportCommand(BaseCommand):
    formats: tuple[str, ...] = ("csv", "xlsx")
    what = "rows"  # for the progress bar's label

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the file to import: " + ", ".join(self.formats))
        parser.add_argument(
            "--format",
            dest="fmt",
            choices=list(self.formats),
            help="file format; by default guessed from the extension",
        )

    def run_import(self, *, source: Path, fmt: str | None, progress, **options) -> ImportResult:
        raise NotImplementedError

    def summary_extra(self, result: ImportResult) -> str:
        """More to say after the counts (e.g. "; 2 schemes created")."""
        return ""

    def handle(self, *args, path: str, fmt: str | None, **options) -> None:
        source = Path(path)
        progress = _ProgressBar(self.stderr, self.what)
        try:
            result = self.run_import(source=source, fmt=fmt, progress=progress, **options)
        except OSError as exc:
            message = _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
            raise CommandError(message) from exc
        except RowsRejected as exc:
            progress.close()
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(
                ngettext(
                    "%(count)d error in %(name)s; nothing was imported.",
                    "%(count)d errors in %(name)s; nothing was imported.",
                    len(exc.errors),
                )
                % {"count": len(exc.errors), "name": source.name}
            ) from exc
        finally:
            progress.close()
        self.stdout.write(
            _(
                "Imported %(name)s: %(rows)d rows — %(created)d created, %(updated)d updated, "
                "%(unchanged)d unchanged"
            )
            % {
                "name": source.name,
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
            }
            + self.summary_extra(result)
        )


class ExportCommand(BaseCommand):
    formats: tuple[str, ...] = ("csv", "xlsx")
    binary_formats: tuple[str, ...] = ("xlsx",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path", nargs="?", help="the file to write; without it, text goes to standard output"
        )
        parser.add_argument(
            "--format",
            dest="fmt",
            choices=list(self.formats),
            help="file format; by default guessed from the extension",
        )

    def run_export(self, *, target: Any, fmt: str, **options) -> int:
        """Write to `target` (a path, or a text stream); return how many records."""
        raise NotImplementedError

    def handle(self, *args, path: str | None, fmt: str | None, **options) -> None:
        fmt = _format_choice(path, fmt, self.formats)
        if fmt in self.binary_formats and not path:
            raise CommandError(_("XLSX is written to a file: give a PATH."))
        if path is None:
            buffer = io.StringIO()
            self.run_export(target=buffer, fmt=fmt, **options)
            self.stdout.write(buffer.getvalue(), ending="")
            return
        try:
            count = self.run_export(target=Path(path), fmt=fmt, **options)
        except OSError as exc:
            message = _("Cannot write %(path)s: %(error)s") % {"path": path, "error": exc}
            raise CommandError(message) from exc
        self.stderr.write(
            ngettext(
                "Exported %(count)d record to %(path)s.",
                "Exported %(count)d records to %(path)s.",
                count,
            )
            % {"count": count, "path": path}
        )
