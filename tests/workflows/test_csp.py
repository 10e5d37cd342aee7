"""The Content-Security-Policy (django-csp) allows no inline script or style, and the pages and
the API docs carry none (they would be blocked in the browser)."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

INLINE = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def _policy(response) -> dict[str, list[str]]:
    directives = [d.strip().split() for d in response["Content-Security-Policy"].split(";")]
    return {d[0]: d[1:] for d in directives if d}


def test_the_policy_forbids_inline_code():
    response = Client().get("/accounts/login/")
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("username", "paths"),
    [
        (None, ["/accounts/login/", "/api/docs/"]),
        ("supervisor", ["/board/", "/board/breaches/", "/supervision/", "/notifications/"]),
        ("inspector", ["/tasks/", "/cases/", "/cases/new/"]),
    ],
)
def test_pages_carry_no_inline_script_or_style(demo, users, username, paths):
    client = Client()
    if username:
        client.force_login(users(username))
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Content-Security-Policy" in response
        assert not INLINE.findall(response.content), (path, INLINE.findall(response.content))


def test_the_docs_set_up_script_is_a_file():
    response = Client().get("/api/docs/")
    scripts = re.findall(rb'<script src="([^"]+)"', response.content)
    setup = next(s for s in scripts if s.startswith(b"/api/docs/")).decode()
    js = Client().get(setup.replace("&amp;", "&"))
    assert js.status_code == 200 and b"SwaggerUIBundle" in js.content
