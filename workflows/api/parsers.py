"""The API's JSON parser: DRF's, with a nesting limit.

A body nested deeper than MAX_DEPTH (arrays and objects) is a 400 parse error: CityOps' inputs
are at most a few levels deep, and Python's decoder would otherwise end deep input (`[` ×
100000) in a RecursionError, a 500. The depth is checked by a scan of the raw text before
decoding (strings skipped), so no input reaches the recursive decoder too deep.
"""

from __future__ import annotations

import io
import re

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 64

# Strings (with escapes) are skipped; brackets outside them open and close levels.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)
_OPEN = frozenset(b"[{")


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    if raw.count(b"[") + raw.count(b"{") <= limit:  # the usual body: no scan needed
        return False
    depth = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token[0] in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif token[0] != 0x22:  # a closing bracket, not a string
            depth -= 1
    return False


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if too_deep(raw):
            raise ParseError(
                _("JSON parse error - nested deeper than %(n)d levels.") % {"n": MAX_DEPTH}
            )
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:  # belt and braces: never a 500
            raise ParseError(_("JSON parse error - nested too deeply.")) from exc
