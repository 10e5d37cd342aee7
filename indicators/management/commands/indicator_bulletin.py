"""Write the monthly bulletin (月度通报) of a month as PDF and XLSX files."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from indicators.bulletin import bulletin_data, bulletin_pdf, bulletin_xlsx
from indicators.selectors.periods import PeriodError, period_parse
from workflows.access import KpiScope


class Command(BaseCommand):
    help = "Generate the monthly bulletin for a month (default: last month) as PDF and XLSX."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM (default: the last complete month)")
        parser.add_argument("--out", default=".", help="folder to write the files into")

    def handle(self, *args, month=None, out=".", **options):
        try:
            period = period_parse("month", month) if month else period_parse("month").previous()
        except PeriodError as exc:
            raise CommandError(str(exc)) from None
        folder = Path(out)
        if not folder.is_dir():
            raise CommandError(f"Not a folder: {folder}")
        data = bulletin_data(period, KpiScope(True))
        pdf = folder / f"bulletin-{period.key}.pdf"
        xlsx = folder / f"bulletin-{period.key}.xlsx"
        pdf.write_bytes(bulletin_pdf(data))
        xlsx.write_bytes(bulletin_xlsx(data))
        self.stdout.write(self.style.SUCCESS(f"wrote {pdf} and {xlsx}"))
