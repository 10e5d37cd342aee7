"""API views for reporters and case readers: get a token, list the categories, report a case,
read it and its timeline, cancel it."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import authentication, exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from workflows.access import can_see_reporter

from ..integrations.tokens import TokenAuthentication, token_issue, token_revoke
from ..models import Case
from ..selectors.case_search import CaseSearchFilter, case_search, case_search_page
from ..selectors.cases import case_open_tasks, case_timeline
from ..selectors.categories import reportable_categories
from ..services.cases import CaseReport, case_cancel, case_report
from ..shortcuts import case_or_404
from .pagination import page_response
from .schema import TOKEN_OUTPUT, filter_parameters, json_or_multipart, page_of
from .serializers import (
    CaseCancelInput,
    CaseListQuery,
    CaseOutput,
    CaseReportInput,
    CaseRowOutput,
    CategoryOutput,
    EventOutput,
    TokenInput,
    parse,
)


class AuthTokenView(APIView):
    """POST {username, password} → {token, expiry}, for `Authorization: Token <token>`;
    DELETE with that header revokes the token. Wrong passwords count towards the lockout
    (django-axes, per account and per client address, in the shared cache): a locked-out
    caller gets 429 with Retry-After."""

    authentication_classes = ()  # a stale token in the header must not block logging in
    permission_classes = ()

    @extend_schema(request=TokenInput, responses=TOKEN_OUTPUT, auth=[])
    def post(self, request: Request) -> Response:
        data = parse(TokenInput, request.data)
        # The Django request: django-axes notes the failure (and a lockout) on it.
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None:
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [_("Wrong username or password.")]}
            )
        token, expiry = token_issue(user)
        return Response({"token": token, "expiry": expiry})

    def get_authenticate_header(self, request: Request) -> str:
        return "Token"  # DELETE without a valid token is 401, not 403

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        found = TokenAuthentication().authenticate(request)
        if found is None:
            raise exceptions.NotAuthenticated()
        token = authentication.get_authorization_header(request).split()[1].decode()
        token_revoke(token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CategoryListView(APIView):
    required_scope = "cases:read"

    @extend_schema(responses=CategoryOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(CategoryOutput(reportable_categories(), many=True).data)


def case_response(request: Request, case: Case, status_code: int = status.HTTP_200_OK):
    context = {
        "request": request,
        "photos": list(case.attachments.all()),
        "open_tasks": list(case_open_tasks(case)),
        "sees_reporter": can_see_reporter(request.user, case),
    }
    return Response(CaseOutput(case, context=context).data, status=status_code)


class CaseReportView(APIView):
    """GET: the case search (filters of the case list, keyset pages); POST (JSON or multipart
    with repeated `photos`) → 201 with the new case."""

    scopes = {"GET": "cases:read", "POST": "cases:report"}

    @property
    def required_scope(self) -> str:
        return self.scopes.get(self.request.method, "cases:report")

    @extend_schema(
        operation_id="cases_list",
        parameters=[*filter_parameters(CaseSearchFilter), CaseListQuery],
        responses=page_of("CasePage", CaseRowOutput),
        description="Cases the caller may see, filtered; `phone` (the reporter's, exact) only "
        "for posts allowed to see reporters (intake clerks). Sorted by `sort`; follow `next`.",
    )
    def get(self, request: Request) -> Response:
        query = parse(CaseListQuery, request.query_params)
        search = case_search(request.user, request.query_params)
        if not search.is_valid():
            raise serializers.ValidationError(search.errors)
        return page_response(
            request,
            query,
            lambda cursor: case_search_page(search, cursor=cursor, limit=query["limit"]),
            lambda rows: CaseRowOutput(rows, many=True).data,
        )

    @extend_schema(request=json_or_multipart(CaseReportInput), responses={201: CaseOutput})
    def post(self, request: Request) -> Response:
        report = CaseReport(**parse(CaseReportInput, request.data))
        case = case_report(actor=request.user, report=report)
        return case_response(request, case, status.HTTP_201_CREATED)


class CaseDetailView(APIView):
    required_scope = "cases:read"

    @extend_schema(responses=CaseOutput)
    def get(self, request: Request, case_id: int) -> Response:
        return case_response(request, case_or_404(request.user, case_id))


class CaseTimelineView(APIView):
    required_scope = "cases:read"

    @extend_schema(responses=EventOutput(many=True))
    def get(self, request: Request, case_id: int) -> Response:
        case = case_or_404(request.user, case_id)
        return Response(EventOutput(case_timeline(case), many=True).data)


class CaseCancelView(APIView):
    required_scope = "tasks:act"

    @extend_schema(request=CaseCancelInput, responses=CaseOutput)
    def post(self, request: Request, case_id: int) -> Response:
        case = case_or_404(request.user, case_id)
        data = parse(CaseCancelInput, request.data)
        case = case_cancel(actor=request.user, case=case, reason=data["reason"])
        return case_response(request, case)
