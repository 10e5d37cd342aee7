"""Errors services raise; interfaces map them (400 / 404 / 409) without business branching."""

from django.core.exceptions import ValidationError  # 400: bad input, field errors
from django.http import Http404  # 404: missing, or not the caller's to see

__all__ = ["Conflict", "Http404", "ValidationError", "not_found"]


class Conflict(Exception):
    """409: the request is well-formed but the state does not allow it now."""

    def __init__(self, message: str, code: str = "conflict") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def not_found() -> Http404:
    return Http404("Not found.")
