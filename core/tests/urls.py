"""The project's routes plus a few views that exist only for the operations tests."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.apis.base import PublicApi, TenantApi
from skybot_inbox.urls import handler400, handler403, handler404, handler500
from skybot_inbox.urls import urlpatterns as project_urlpatterns


class ExplodingApi(PublicApi):
    def get(self, request: Request) -> Response:
        raise RuntimeError("unhandled failure in an API view")


class EchoApi(PublicApi):
    def post(self, request: Request) -> Response:
        return Response({"received": request.data})


class WhoAmIApi(TenantApi):
    def get(self, request: Request) -> Response:
        return Response({"principal": self.principal.label})


class SignedInExplodingApi(TenantApi):
    def get(self, request: Request) -> Response:
        raise RuntimeError("unhandled failure for a signed-in caller")

    def post(self, request: Request) -> Response:
        assert request.data is not None  # the body was read, as a real view would
        raise RuntimeError("unhandled failure for a signed-in caller")


@csrf_exempt
def raw_body_length(request: HttpRequest) -> JsonResponse:
    """A plain Django view that reads the raw body, as webhook receivers do."""
    return JsonResponse({"length": len(request.body)})


def _test_routes() -> list[Any]:
    return [
        path("api/test/explode", ExplodingApi.as_view()),
        path("api/test/explode-signed-in", SignedInExplodingApi.as_view()),
        path("api/test/echo", EchoApi.as_view()),
        path("api/test/whoami", WhoAmIApi.as_view()),
        path("api/test/raw-body", raw_body_length),
    ]


# The test routes go first: the project's catch-all answers 404 for every other /api/ path.
urlpatterns = [*_test_routes(), *project_urlpatterns]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
