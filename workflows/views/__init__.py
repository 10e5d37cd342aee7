"""Server-rendered pages: task lists and actions (tasks, requests, task_page), reporting and
case pages (cases), supervision (board), notifications.

Thin by rule: parse the request, call one service or selector, render. Every action calls its
service through actions.service_action, which shows a ValidationError on the form (400) and a
Conflict or PermissionDenied as a message; Http404 (workflows.shortcuts) is the 404 page;
lists page by cursor through pagination.page_or_first.
"""

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.views.decorators.http import require_GET


@require_GET
def home(request):
    """Staff start at their task lists; supervisors and unit heads at the indicator dashboard
    (the city's, or their unit's); anyone else logs in first."""
    if request.user.is_authenticated:
        from workflows.access import lands_on_dashboard

        if lands_on_dashboard(request.user):
            return redirect("indicators:dashboard")
        return redirect("workflows:tasks")
    return redirect_to_login(request.get_full_path())
