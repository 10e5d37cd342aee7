"""催办 over the API: the command centre reminds the holders of a case."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..selectors.reminders import reminder_count
from ..services.reminders import case_remind
from ..shortcuts import case_or_404
from .serializers import CaseRemindInput, ReminderOutput, parse


class CaseRemindView(APIView):
    """POST {message} → 201 with the reminder (shift leader or supervisor of the case)."""

    required_scope = "tasks:act"

    @extend_schema(request=CaseRemindInput, responses={201: ReminderOutput})
    def post(self, request: Request, case_id: int) -> Response:
        case = case_or_404(request.user, case_id)
        data = parse(CaseRemindInput, request.data)
        event = case_remind(actor=request.user, case=case, message=data["message"])
        event.reminder_count = reminder_count(case)
        return Response(ReminderOutput(event).data, status=status.HTTP_201_CREATED)
