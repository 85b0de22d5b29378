"""Sign-in API for people: obtain a JWT pair, rotate it, end it.

These endpoints are public (the caller has no token yet, or only a refresh token). Failed password
attempts count toward a per-email and per-IP limit (`LOGIN_FAILURE_LIMIT`) → 429 with Retry-After.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.apis import examples
from accounts.apis.base import PublicApi
from accounts.services.audit import RequestContext
from accounts.services.auth import (
    TokenPair,
    auth_logout,
    auth_tokens_issue,
    auth_tokens_refresh,
    authenticate_with_password,
)
from core.openapi import ApiErrorSerializer, error_response, error_responses
from core.serializers import InputSerializer

# Long enough for any passphrase; short enough that hashing it is never a denial of service.
PASSWORD_MAX_LENGTH = 1024
TOKEN_MAX_LENGTH = 4096


class TokenPairSerializer(serializers.Serializer[TokenPair]):
    access = serializers.CharField(help_text="Access token (JWT, HS256). Send as `Authorization: Bearer <access>`.")
    refresh = serializers.CharField(help_text="Refresh token. Single use: each refresh returns a new one.")

    class Meta:
        ref_name = "TokenPair"


RETRY_AFTER = OpenApiParameter(
    name="Retry-After",
    type=OpenApiTypes.INT,
    location=OpenApiParameter.HEADER,
    response=[status.HTTP_429_TOO_MANY_REQUESTS],
    description="Seconds until another attempt is allowed.",
)
BAD_REQUEST = error_response(
    400,
    "Malformed JSON, a missing or wrongly typed field, or an unknown field.",
    details={"email": ["Enter a valid email address."]},
)
INVALID_REFRESH = OpenApiResponse(
    ApiErrorSerializer,
    description="The refresh token is invalid, expired, revoked or was already used.",
    examples=[
        OpenApiExample(
            "Invalid refresh token",
            value={
                "code": "token_not_valid",
                "message": "The refresh token is invalid, expired or revoked.",
                "details": {},
            },
            response_only=True,
        )
    ],
)
THROTTLED = error_responses()[429]


class TokenObtainApi(PublicApi):
    """Exchange an email and password for a JWT access/refresh pair."""

    class InputSerializer(InputSerializer):
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)

        class Meta:
            ref_name = "TokenObtainInput"

    @extend_schema(
        operation_id="auth_token_obtain",
        summary="Sign in with email and password",
        description=(
            "Returns an access token (short-lived) and a refresh token (single use, rotates). "
            "A wrong password, an unknown email, a deactivated person or a disabled tenant all answer the "
            "same 401. After too many failures for one email or from one IP address (default 10 in 15 "
            "minutes) every attempt answers 429 with `Retry-After`, even with the right password."
        ),
        tags=["auth"],
        auth=[],
        request=InputSerializer,
        parameters=[RETRY_AFTER],
        examples=examples.TOKEN_OBTAIN,
        responses={
            200: TokenPairSerializer,
            400: BAD_REQUEST,
            401: OpenApiResponse(
                ApiErrorSerializer,
                description="Invalid email or password.",
                examples=[
                    OpenApiExample(
                        "Invalid credentials",
                        value={"code": "invalid_credentials", "message": "Invalid email or password.", "details": {}},
                        response_only=True,
                    )
                ],
            ),
            429: OpenApiResponse(
                ApiErrorSerializer,
                description="Too many failed sign-in attempts for this email or from this address.",
                examples=[
                    OpenApiExample(
                        "Rate limited",
                        value={
                            "code": "rate_limited",
                            "message": "Too many failed sign-in attempts. Try again later.",
                            "details": {},
                        },
                        response_only=True,
                    )
                ],
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.validated(self.InputSerializer, request)
        context = RequestContext.from_request(request)
        user = authenticate_with_password(
            request=request, email=data["email"], password=data["password"], context=context
        )
        pair = auth_tokens_issue(user=user, context=context)
        return Response(TokenPairSerializer(pair).data)


class TokenRefreshApi(PublicApi):
    """Rotate a refresh token: the presented one is spent and a new pair is returned."""

    class InputSerializer(InputSerializer):
        refresh = serializers.CharField(max_length=TOKEN_MAX_LENGTH)

        class Meta:
            ref_name = "TokenRefreshInput"

    @extend_schema(
        operation_id="auth_token_refresh",
        summary="Rotate a refresh token",
        description=(
            "Spends the refresh token and returns a new access and refresh token. Presenting a refresh "
            "token that was already used means it was copied: the answer is 401 and every token of that "
            "sign-in (including the newest) is revoked, so the person must sign in again."
        ),
        tags=["auth"],
        auth=[],
        request=InputSerializer,
        parameters=[RETRY_AFTER],
        examples=examples.TOKEN_REFRESH,
        responses={200: TokenPairSerializer, 400: BAD_REQUEST, 401: INVALID_REFRESH, 429: THROTTLED},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(self.InputSerializer, request)
        pair = auth_tokens_refresh(raw_refresh=data["refresh"], context=RequestContext.from_request(request))
        return Response(TokenPairSerializer(pair).data)


class LogoutApi(PublicApi):
    """End a sign-in: its refresh tokens stop working. Access tokens expire on their own."""

    class InputSerializer(InputSerializer):
        refresh = serializers.CharField(max_length=TOKEN_MAX_LENGTH)

        class Meta:
            ref_name = "LogoutInput"

    @extend_schema(
        operation_id="auth_logout",
        summary="Sign out (revoke the refresh token)",
        description=(
            "Revokes the refresh token and every token rotated from the same sign-in. Access tokens "
            "already issued stay valid until they expire (`JWT_ACCESS_EXPIRY`, default 15 minutes)."
        ),
        tags=["auth"],
        auth=[],
        request=InputSerializer,
        parameters=[RETRY_AFTER],
        examples=examples.LOGOUT,
        responses={
            204: OpenApiResponse(description="Signed out."),
            400: BAD_REQUEST,
            401: INVALID_REFRESH,
            429: THROTTLED,
        },
    )
    def post(self, request: Request) -> Response:
        data = self.validated(self.InputSerializer, request)
        auth_logout(raw_refresh=data["refresh"], context=RequestContext.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("auth/token", TokenObtainApi.as_view(), name="auth-token"),
    path("auth/token/refresh", TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/logout", LogoutApi.as_view(), name="auth-logout"),
]
