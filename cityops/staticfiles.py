"""Static files: the staticfiles app, ignoring the `node_modules` folders vendored packages ship.

django-viewflow's wheel carries its front-end build's `node_modules/` next to the files it uses
(e.g. `viewflow/fonts/roboto/node_modules/roboto-fontface/css/roboto/roboto-fontface.css`,
whose `url(./Roboto-Thin.woff2)` points at a font not shipped there). The manifest storage
follows every CSS `url()` and fails on the first missing one, so `collectstatic` wrote no
manifest with DEBUG=False. Nothing served by CityOps (or viewflow's own pages) loads anything
from those folders; the files viewflow uses sit one level up and are collected as before.
"""

from django.contrib.staticfiles.apps import StaticFilesConfig as DjangoStaticFilesConfig
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesConfig(DjangoStaticFilesConfig):
    ignore_patterns = [*DjangoStaticFilesConfig.ignore_patterns, "node_modules"]


def _without_source_maps(patterns):
    return tuple(
        (
            glob,
            tuple(
                p for p in rules if "sourceMappingURL" not in (p if isinstance(p, str) else p[0])
            ),
        )
        for glob, rules in patterns
    )


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """whitenoise's compressed manifest storage, not following `sourceMappingURL` comments:
    vendored libraries ship minified files whose source maps are left out (e.g. Leaflet's
    `leaflet.js.map`), and a missing map must not stop `collectstatic` from writing the
    manifest. CSS `url()` and `@import` references are still hashed (and must exist)."""

    patterns = _without_source_maps(CompressedManifestStaticFilesStorage.patterns)
