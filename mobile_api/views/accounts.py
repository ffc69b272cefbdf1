"""Residents' accounts and their phones."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from backend.api_errors import ERROR
from backend.ratelimit import login_failed, login_succeeded, login_throttle, signup_throttle
from mobile_api.serializers import AccountOut, DeviceIn, DeviceOut, LoginIn, SignupIn
from mobile_api.services import AccountError, account_login, account_signup, device_register
from mobile_api.views.base import AUTH_ERRORS, MobileView, SignedInView, parsed


def _account_body(user: Any, token: str) -> dict[str, Any]:
    return dict(
        AccountOut(
            {"user_id": user.pk, "email": user.email, "name": user.first_name, "token": token}
        ).data
    )


class SignupView(MobileView):
    authentication_classes: list[Any] = []

    @extend_schema(
        operation_id="mobile_accounts_signup",
        summary="Create a resident account with e-mail and password; answers its token",
        request=SignupIn,
        responses={201: AccountOut, 400: ERROR, 409: ERROR, 429: ERROR},
    )
    def post(self, request: Request) -> Response:
        signup_throttle(request)
        data = parsed(SignupIn, request.data)
        user, token = account_signup(
            email=data["email"], password=data["password"], name=data["name"]
        )
        return Response(_account_body(user, token), status=status.HTTP_201_CREATED)


class LoginView(MobileView):
    authentication_classes: list[Any] = []

    @extend_schema(
        operation_id="mobile_accounts_login",
        summary="Log in with e-mail and password; answers the account's token",
        request=LoginIn,
        responses={200: AccountOut, 400: ERROR, 401: ERROR, 429: ERROR},
    )
    def post(self, request: Request) -> Response:
        data = parsed(LoginIn, request.data)
        login_throttle(request, account=data["email"])
        try:
            user, token = account_login(email=data["email"], password=data["password"])
        except AccountError:
            login_failed(request, account=data["email"])  # counted; answered by the handler
            raise
        login_succeeded(request, account=data["email"])
        return Response(_account_body(user, token))


class DeviceRegisterView(SignedInView):
    @extend_schema(
        operation_id="mobile_devices_register",
        summary="Register this phone for push messages (again: refreshes it)",
        request=DeviceIn,
        responses={201: DeviceOut, 400: ERROR, **AUTH_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = parsed(DeviceIn, request.data)
        device = device_register(
            user=request.user,
            platform=data["platform"],
            push_token=data["push_token"],
        )
        return Response(DeviceOut(device).data, status=status.HTTP_201_CREATED)
