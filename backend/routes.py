"""URL helpers: the actions on one resource, each a path of its own below the resource's."""

from __future__ import annotations

from django.urls import URLPattern, path
from django.views import View


def action_paths(route: str, views: dict[str, type[View]], *, name: str = "{}") -> list[URLPattern]:
    """A path ``<route>/<action>`` for each action and its view, named ``name`` with the
    action in place of ``{}``; in the order given."""
    return [
        path(f"{route}/{action}", view.as_view(), name=name.format(action))
        for action, view in views.items()
    ]
