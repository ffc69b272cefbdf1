"""POST bench/v1/rows: validate a tiny serializer, insert one row, answer 201. Nothing else:
no catalog, no geometry, no events, so it measures what the stack itself costs."""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.baseline.models import BenchRow


class RowIn(serializers.Serializer):
    text = serializers.CharField(max_length=200)
    number = serializers.IntegerField()


class RowCreateView(APIView):
    def post(self, request: Request) -> Response:
        data_in = RowIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        row = BenchRow.objects.create(**data_in.validated_data)
        return Response({"id": row.pk}, status=status.HTTP_201_CREATED)
