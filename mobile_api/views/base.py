"""What the mobile API's views share: how they authenticate, and the error answers the
OpenAPI document shows."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from backend.api_errors import ERROR
from backend.errors import found
from backend.service_requests.models import ServiceRequest

AUTH_ERRORS = {401: ERROR, 404: ERROR}


class MobileView(APIView):
    """The app signs in with a DRF token (``Authorization: Token ...``); the session works
    too. Anonymous residents may still browse and file requests."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]


class SignedInView(MobileView):
    permission_classes = [IsAuthenticated]


def client_key(request: Request) -> str:
    """The throttles' key for a signed-in user ("" for anyone else: by address)."""
    user_id = request.user.pk if request.user.is_authenticated else None
    return f"user:{user_id}" if user_id else ""


def parsed(input_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    """``data`` checked by ``input_class``: its validated data, or a 400 naming each wrong
    field."""
    data_in = input_class(data=data)
    data_in.is_valid(raise_exception=True)
    return dict(data_in.validated_data)


def request_found(service_request: ServiceRequest | None, public_id: str) -> ServiceRequest:
    """The request a selector found, or a 404 naming ``public_id``."""
    return found(service_request, public_id, field="public_id", what="request")
