"""What the task page shows in words: the suggested unit by name, a finished step's outcome by
its label (not the codes the payload keeps)."""

from __future__ import annotations

import pytest
from django.test import Client

from workflows.models import CaseTask

pytestmark = pytest.mark.django_db


def test_the_dispatch_page_names_the_suggested_unit(users, walk):
    """The suggestion reads 环卫处 (SANI), as the unit list does, not the bare code."""
    case = walk.report()
    walk.act("intake", case["id"], "accept")
    walk.act("shiftlead", case["id"], "file")
    task = CaseTask.objects.get(case_id=case["id"], stage="dispatch", status="open")
    client = Client()
    client.force_login(users("dispatcher"))
    client.post(f"/tasks/{task.pk}/claim/")
    page = client.get(f"/tasks/{task.pk}/").text
    assert "<strong>环卫处 (SANI)</strong>" in page


def test_a_done_task_names_its_outcome(users, walk):
    """The task page of a finished step says what was decided (受理), not the code (accept)."""
    case = walk.report()
    walk.act("intake", case["id"], "accept")
    task = CaseTask.objects.get(case_id=case["id"], stage="intake")
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(users("intake"))
    page = client.get(f"/tasks/{task.pk}/").text
    assert "</span> 受理</dd>" in page and "</span> accept</dd>" not in page


def test_the_suggestion_reads_in_the_readers_language(users, walk):
    """The task's payload keeps the explanation in the language of the step that made the task
    (here Chinese); an English reader reads it in English."""
    case = walk.report()
    walk.act("intake", case["id"], "accept")
    walk.act("shiftlead", case["id"], "file")
    task = CaseTask.objects.get(case_id=case["id"], stage="dispatch", status="open")
    task.payload["explanation"] = "类别 0102 暴露垃圾 的默认单位"
    task.save(update_fields=["payload"])
    client = Client(headers={"accept-language": "en"})
    client.force_login(users("dispatcher"))
    client.post(f"/tasks/{task.pk}/claim/")
    page = client.get(f"/tasks/{task.pk}/").text
    assert "Default unit of category 0102" in page and "的默认单位" not in page
