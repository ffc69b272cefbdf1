"""The access table: every HTTP endpoint of the URL configuration, each with an anonymous
case, an outsider case and an owner case (tests/security/test_access.py).

Each app keeps its entries in its own module here (``mobile_api.py``, ``workorders.py``...)
as ``ENTRIES: dict[str, Endpoint]`` keyed by the endpoint's full route as Django spells it
(``"mobile/v1/requests/<str:public_id>"``; a regex route keeps its regex). ``registry()``
collects every module of this package; an endpoint of the URL configuration missing from it
fails the test, by name.

Who is who (``tests/security/conftest.py`` ``World``): the *owner* is whoever the endpoint is
for (the request's reporter, a crew member or supervisor of its department, an admin); the
*outsider* is the nearest someone who must not get in (another resident, a crew member of
another department, a signed-in user who is not staff). A public endpoint still has all
three, and each must answer as for anyone.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.security.conftest import World

# The identities a case can use; see World.api / World.browser.
WHO = ("anonymous", "resident", "other_resident", "crew", "other_crew", "supervisor", "admin")


@dataclass(frozen=True)
class Case:
    who: str
    method: str = "GET"
    # The concrete path; a function of the world when it needs ids of real objects.
    path: str | Callable[[World], str] = ""
    # Answers that are right for this identity (e.g. {401, 403} or {200}).
    expect: frozenset[int] = frozenset({200})
    data: Any = None  # or a function of the world that returns it
    format: str | None = "json"  # "json", "multipart" for APIs; None for form posts
    headers: dict[str, str] = field(default_factory=dict)
    browser: bool = False  # a session (pages, admin) rather than a token
    # A further check of the answer (the outsider sees no private data...).
    check: Callable[[World, Any], None] | None = None


@dataclass(frozen=True)
class Endpoint:
    anonymous: Case
    outsider: Case
    owner: Case

    def cases(self) -> dict[str, Case]:
        return {"anonymous": self.anonymous, "outsider": self.outsider, "owner": self.owner}


def expect(*codes: int) -> frozenset[int]:
    return frozenset(codes)


def registry() -> dict[str, Endpoint]:
    entries: dict[str, Endpoint] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for route, endpoint in getattr(module, "ENTRIES", {}).items():
            assert route not in entries, f"{route} is in two access modules"
            entries[route] = endpoint
    return entries
