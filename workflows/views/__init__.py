"""Server-rendered pages: task lists and task pages (tasks), reporting and case pages (cases).

Thin by rule: parse the request, call one service or selector, render; services raise
ValidationError (400, shown on the form), Conflict (a message, back to the page) or Http404.
"""

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.views.decorators.http import require_GET


@require_GET
def home(request):
    """Staff start at their task lists; anyone else logs in first."""
    if request.user.is_authenticated:
        return redirect("workflows:tasks")
    return redirect_to_login(request.get_full_path())
