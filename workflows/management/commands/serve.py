"""Serve the site for the local demo, with periodic work running in this process."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from cityops.periodic import InProcessLoop


class Command(BaseCommand):
    help = (
        "Serve CityOps on 127.0.0.1:PORT; runs SLA sweeps and outbox delivery in-process "
        "when no Celery broker is configured."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, **options):
        if settings.CITYOPS_INPROCESS_PERIODIC:
            loop = InProcessLoop()
            loop.start()
            names = ", ".join(j.name for j in loop.jobs) or "none registered"
            self.stdout.write(f"Periodic work runs in this process ({names}).")
        self.stdout.write(
            f"CityOps demo: http://{options['host']}:{options['port']}/accounts/login/ "
            "(accounts: see README, password cityops-demo)"
        )
        call_command(
            "runserver",
            f"{options['host']}:{options['port']}",
            use_reloader=False,
            use_threading=True,
        )
