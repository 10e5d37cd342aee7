"""The admin lists model versions with their figures and the acceptance rate, and rolls back."""

from __future__ import annotations

import pytest

from intelligence.models import SuggestionLog, SuggestionModel
from intelligence.services.train import suggestion_model_train

pytestmark = pytest.mark.django_db
URL = "/admin/intelligence/suggestionmodel/"


def test_versions_figures_acceptance_and_roll_back(trained, staff_client, users):
    newer = suggestion_model_train()
    for taken in ("first", "first", "other", "none"):
        SuggestionLog.objects.create(
            surface="dispatch", user=users("dispatcher"), model_version=newer.version,
            suggested=["WATER", "MUNI"], taken=taken,
        )  # fmt: skip
    client = staff_client("admin")
    page = client.get(URL).content.decode()
    assert trained.version in page and newer.version in page
    assert f"{newer.metrics['unit']['top1'] * 100:.1f} %" in page
    assert "the first one 50.0 %, one of them 75.0 %, of 4 decisions" in page
    response = client.post(
        URL, {"action": "activate", "index": 0, "_selected_action": [trained.pk]}, follow=True
    )
    assert f"{trained.version[1:]} is active." in response.content.decode()  # capfirst
    assert SuggestionModel.objects.get(is_active=True) == trained
