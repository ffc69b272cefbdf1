"""JSON and XML renderers with GeoReport v2's content types and element names.

The XML renderer writes the spec's shapes: the view names the root and item elements
(``<services><service>``, ``<service_requests><request>``, ``<errors><error>``...) through
``response.xml_names``; a dict answer (discovery, a service definition) is the root's
children. Lists inside are wrapped in their plural element with singular children
(``<attributes><attribute>``, ``<values><value>``...). A ``None`` value leaves its element
out: XML::Simple, which FixMyStreet parses with, turns an empty element into a true value."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from rest_framework.renderers import BaseRenderer, JSONRenderer

SINGULAR = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "photos": "photo",
    "notes": "note",
}
# Characters XML 1.0 cannot carry at all (a description may hold them; JSON can).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Open311JSONRenderer(JSONRenderer):
    media_type = "application/json"
    format = "json"
    charset = "utf-8"


def _scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    return escape(_NOT_XML.sub("", str(value)))


def _element(name: str, value: Any, out: list[str]) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        out.append(f"<{name}>")
        for key, item in value.items():
            _element(key, item, out)
        out.append(f"</{name}>")
    elif isinstance(value, list | tuple):
        child = SINGULAR.get(name, "item")
        out.append(f"<{name}>")
        for item in value:
            _element(child, item, out)
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_scalar(value)}</{name}>")


def xml_document(data: Any, *, root: str, item: str) -> bytes:
    out = ['<?xml version="1.0" encoding="utf-8"?>\n', f"<{root}>"]
    if isinstance(data, Mapping):
        for key, value in data.items():
            _element(key, value, out)
    else:
        for entry in data or []:
            _element(item, entry, out)
    out.append(f"</{root}>\n")
    return "".join(out).encode("utf-8")


class Open311XMLRenderer(BaseRenderer):
    media_type = "text/xml"
    format = "xml"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        response = (renderer_context or {}).get("response")
        root, item = getattr(response, "xml_names", ("response", "item"))
        return xml_document(data, root=root, item=item)
