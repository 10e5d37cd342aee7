"""The admin speaks Chinese: every model and every editable field of the project's apps has a
label with a Chinese translation (declared with gettext_lazy, or given by cityops.labels)."""

import re

import pytest
from django.apps import apps
from django.utils import translation

APPS = ("departments", "workflows", "operations", "indicators", "intelligence")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _labels():
    for app in APPS:
        config = apps.get_app_config(app)
        yield f"app {app}", config.verbose_name
        for model in config.get_models():
            name = model.__name__
            yield f"{name} (model)", model._meta.verbose_name
            yield f"{name} (model, plural)", model._meta.verbose_name_plural
            for field in model._meta.local_fields + model._meta.local_many_to_many:
                if field.editable and not field.auto_created:
                    yield f"{name}.{field.name}", field.verbose_name


def test_every_admin_label_has_chinese():
    with translation.override("zh-hans"):
        missing = [f"  {where}: {str(label)!r}" for where, label in _labels()
                   if not CHINESE.search(str(label))]  # fmt: skip
    if missing:
        pytest.fail(
            f"{len(missing)} label(s) show English in the Chinese admin: give the field a "
            "verbose_name=_(…) (or add its derived label to cityops/labels.py) and its zh-hans "
            "entry:\n" + "\n".join(missing),
            pytrace=False,
        )


def test_labels_stay_english_in_english():
    with translation.override("en"):
        labels = {where: str(label) for where, label in _labels()}
    assert labels["Case.reported_by"] == "reported by"
    assert labels["CaseSequence (model)"] == "case number sequence"
