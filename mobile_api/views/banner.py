"""The site banner staff set in emergency mode ("Call 911 for a gas leak"), for the apps."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from backend.catalog.selectors import site_banner_current
from backend.i18n import language_current
from mobile_api.serializers import SiteBannerAnswerOut
from mobile_api.views.base import MobileView


class SiteBannerView(MobileView):
    @extend_schema(
        operation_id="mobile_banner_get",
        summary="The site banner in effect now (emergency mode), localized; null when none",
        responses={200: SiteBannerAnswerOut},
    )
    def get(self, request: Request) -> Response:
        notice = site_banner_current()
        banner = None
        if notice is not None:
            banner = {
                "message": notice.message_in(language_current()),
                "starts_at": timezone.localtime(notice.starts_at),
                "ends_at": timezone.localtime(notice.ends_at) if notice.ends_at else None,
            }
        return Response(SiteBannerAnswerOut({"banner": banner}).data)
