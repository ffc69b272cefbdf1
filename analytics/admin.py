"""Score targets are edited in the admin; the rollups are derived data and not shown."""

from django.contrib import admin

from analytics.models import ScoreTarget


@admin.register(ScoreTarget)
class ScoreTargetAdmin(admin.ModelAdmin):
    list_display = ("indicator", "department", "target")
    list_filter = ("indicator", "department")
