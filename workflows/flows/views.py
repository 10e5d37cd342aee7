"""Viewflow needs a view per human node; ours send the user to CityOps' own task page."""

from django.shortcuts import redirect


def task_redirect_view(request, **kwargs):
    return redirect("workflows:task", task_id=kwargs["task_pk"])
