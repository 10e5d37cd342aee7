import pytest
from django.utils import translation
from django.utils.translation import gettext as _


def test_chinese_ships_for_the_interface():
    with translation.override("zh-hans"):
        assert _("Shift leader") == "值班长"
        assert _("Log in") == "登录"


@pytest.mark.django_db
def test_login_page_is_chinese_by_default(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    body = client.get("/accounts/login/").content.decode()
    assert "登录" in body
    english = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Log in to CityOps" in english
