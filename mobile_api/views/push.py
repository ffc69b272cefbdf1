"""Web Push: browsers subscribe to status messages (anonymous reporters too, bound to their
request)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from backend.api_errors import ERROR
from backend.errors import City311Error, ErrorCode
from backend.ratelimit import push_subscription_throttle
from mobile_api.push import ENDPOINT_MAX, vapid_public_key
from mobile_api.selectors import service_request_get
from mobile_api.serializers import (
    VapidPublicKeyOut,
    WebPushSubscriptionIn,
    WebPushSubscriptionOut,
    WebPushUnsubscribedOut,
    WebPushUnsubscribeIn,
)
from mobile_api.services import web_push_subscribe, web_push_unsubscribe
from mobile_api.views.base import MobileView, client_key, parsed

NOT_CONFIGURED = "Web Push is not configured on this site."
DELETE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "endpoint": {"type": "string", "maxLength": ENDPOINT_MAX, "minLength": 1}
                },
                "required": ["endpoint"],
            }
        }
    },
}


class VapidPublicKeyView(MobileView):
    authentication_classes: list[Any] = []

    @extend_schema(
        operation_id="mobile_push_vapid_public_key",
        summary="The site's VAPID public key, for pushManager.subscribe (applicationServerKey)",
        responses={200: VapidPublicKeyOut, 503: ERROR},
    )
    def get(self, request: Request) -> Response:
        public_key = vapid_public_key()
        if not public_key:
            raise City311Error(
                {"public_key": [NOT_CONFIGURED]},
                code=ErrorCode.UNAVAILABLE,
                detail="Web Push is not configured on this site "
                "(WEB_PUSH_VAPID_PRIVATE_KEY is not set).",
            )
        return Response(VapidPublicKeyOut({"public_key": public_key}).data)


class WebPushSubscriptionView(MobileView):
    """Signed in (token or session; the session needs its CSRF token): the account's
    requests and follows. Anonymous: one request, named by ``service_request_id``."""

    @extend_schema(
        operation_id="mobile_push_subscribe",
        summary="Subscribe this browser to status messages by Web Push (again: refreshes it)",
        description="The body is the browser's PushSubscription JSON, plus `service_request_id` "
        "(required without an account). The endpoint must be an https URL of a known push "
        "service (WEB_PUSH_ALLOWED_HOSTS).",
        request=WebPushSubscriptionIn,
        responses={
            201: WebPushSubscriptionOut,
            400: ERROR,
            401: ERROR,
            403: ERROR,
            429: ERROR,
            503: ERROR,
        },
    )
    def post(self, request: Request) -> Response:
        push_subscription_throttle(request, client_key=client_key(request))
        data = parsed(WebPushSubscriptionIn, request.data)
        if not vapid_public_key():
            raise City311Error({"endpoint": [NOT_CONFIGURED]}, code=ErrorCode.UNAVAILABLE)
        service_request = None
        if data["service_request_id"]:
            service_request = service_request_get(public_id=data["service_request_id"])
            if service_request is None:
                raise City311Error(
                    {"service_request_id": [f"No request {data['service_request_id']}."]}
                )
        device = web_push_subscribe(
            user=request.user,
            endpoint=data["endpoint"],
            p256dh=data["keys"]["p256dh"],
            auth=data["keys"]["auth"],
            service_request=service_request,
        )
        return Response(WebPushSubscriptionOut(device).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="mobile_push_unsubscribe",
        summary="Stop Web Push to this browser (its endpoint in the body)",
        request=WebPushUnsubscribeIn,
        responses={200: WebPushUnsubscribedOut, 400: ERROR, 401: ERROR, 403: ERROR, 429: ERROR},
        # The document's generator writes no body for a DELETE: this one reads its endpoint there.
        extensions={"x-request-body": DELETE_BODY},
    )
    def delete(self, request: Request) -> Response:
        push_subscription_throttle(request, client_key=client_key(request))
        data = parsed(WebPushUnsubscribeIn, request.data)
        deleted = web_push_unsubscribe(endpoint=data["endpoint"])
        return Response(WebPushUnsubscribedOut({"deleted": deleted}).data)
