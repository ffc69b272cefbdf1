"""CSV export of every analytics table: ``?format=csv`` (with ``table=`` where an answer has
more than one table). The view hands the renderer a list of flat dicts."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer

from backend.csv_cells import csv_cell


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        rows = data if isinstance(data, list) else [data]
        out = io.StringIO()
        columns: list[str] = []
        for row in rows:
            for key in row:
                if key not in columns:
                    columns.append(key)
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    k: csv_cell(
                        json.dumps(v) if isinstance(v, dict | list) else ("" if v is None else v)
                    )
                    for k, v in row.items()
                }
            )
        return out.getvalue().encode("utf-8")
