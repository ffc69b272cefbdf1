"""How the Open311 views appear in the OpenAPI document: every operation twice, as its
``.json`` path (answers described by the serializers) and its ``.xml`` path (``text/xml``,
a string: XML Schema is out of OpenAPI's reach; the element names are in docs/open311.md)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse


class Open311Schema(AutoSchema):
    @property
    def _format(self) -> str:
        return "xml" if self.path.endswith(".xml") else "json"

    def get_operation_id(self) -> str:
        name = getattr(self.view, "open311_operation", None) or super().get_operation_id()
        return f"open311_{name}_{self.method.lower()}_{self._format}"

    def get_tags(self) -> list[str]:
        return ["open311"]

    def map_renderers(self, attribute: str) -> list[Any]:
        return [
            value
            for value in super().map_renderers(attribute)
            if (value in ("xml", "text/xml")) == (self._format == "xml")
        ]

    def _get_response_for_code(
        self,
        serializer: Any,
        status_code: Any,
        media_types: Any = None,
        direction: Any = "response",
    ) -> Any:
        if self._format == "xml":
            description = serializer.description if isinstance(serializer, OpenApiResponse) else ""
            serializer = OpenApiResponse(
                {"type": "string", "description": "GeoReport v2 XML"}, description=description
            )
        return super()._get_response_for_code(serializer, status_code, media_types, direction)
