"""Static files: the staticfiles app, ignoring the `node_modules` folders vendored packages ship.

django-viewflow's wheel carries its front-end build's `node_modules/` next to the files it uses
(e.g. `viewflow/fonts/roboto/node_modules/roboto-fontface/css/roboto/roboto-fontface.css`,
whose `url(./Roboto-Thin.woff2)` points at a font not shipped there). The manifest storage
follows every CSS `url()` and fails on the first missing one, so `collectstatic` wrote no
manifest with DEBUG=False. Nothing served by CityOps (or viewflow's own pages) loads anything
from those folders; the files viewflow uses sit one level up and are collected as before.
"""

from django.contrib.staticfiles.apps import StaticFilesConfig as DjangoStaticFilesConfig


class StaticFilesConfig(DjangoStaticFilesConfig):
    ignore_patterns = [*DjangoStaticFilesConfig.ignore_patterns, "node_modules"]
