"""The figures of a model as a command prints them: held-out accuracy beside the baseline."""

from __future__ import annotations

from django.utils.translation import gettext as _


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def figures_lines(metrics: dict) -> list[str]:
    """Top-1 / top-3 accuracy on units and categories and the majority-class baseline."""
    lines = [_("Evaluated on %(n)s cases.") % {"n": metrics.get("cases", 0)}]
    names = {"unit": _("Units"), "category": _("Categories")}
    for task in ("unit", "category"):
        f = metrics.get(task) or {}
        lines.append(
            _(
                "%(what)s (%(n)s labelled): top-1 %(top1)s, top-3 %(top3)s; "
                "majority-class baseline top-1 %(base)s, top-3 %(base3)s"
            )
            % {
                "what": names[task],
                "n": f.get("labelled", 0),
                "top1": _pct(f.get("top1")),
                "top3": _pct(f.get("top3")),
                "base": _pct(f.get("baseline")),
                "base3": _pct(f.get("baseline3")),
            }
        )
    return lines
