"""Access cases of the mobile API (/mobile/v1/)."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.conftest import BOSTON, jpeg_bytes
from tests.security.access import Case, Endpoint, expect
from tests.security.access.fixtures import closed_public_id, order_pk
from tests.security.conftest import World
from tests.workorders.factories import good_proof
from workorders.models import WorkOrderStatus

P = "mobile/v1/"
SUBMIT = {
    "service_code": "pothole",
    "lat": BOSTON[0],
    "long": BOSTON[1],
    "attributes": {"size": "large"},
}


def public_id(world: World) -> str:
    return world.service_request.public_id


def no_contact_data(world: World, response: Any) -> None:
    text = response.content.decode()
    assert "rita@example.org" not in text and "Rita" not in text


def mine_only(world: World, response: Any) -> None:
    ids = {item["service_request_id"] for item in response.json()}
    assert world.service_request.public_id not in ids


def crew(action: str, data: dict[str, Any] | None = None, *, status: str) -> Endpoint:
    """A crew action: anonymous 401, a crew member of another department 404, the
    department's crew 200."""

    def path(world: World) -> str:
        return f"/{P}crew/workorders/{order_pk(status)(world)}/{action}"

    def body(world: World) -> dict[str, Any]:
        out: dict[str, Any] = {"client_at": timezone.now().isoformat(), **(data or {})}
        if action == "complete":
            out["photos"] = [SimpleUploadedFile("proof.jpg", good_proof(), "image/jpeg")]
        return out

    def case(who: str, codes: frozenset[int]) -> Case:
        return Case(
            who,
            "POST",
            path,
            codes,
            data=body,
            format="multipart" if action == "complete" else "json",
            headers={"HTTP_IDEMPOTENCY_KEY": f"access-{who}-{action}"},
        )

    return Endpoint(
        case("anonymous", expect(401)), case("other_crew", expect(404)), case("crew", expect(200))
    )


def public(path: Any, method: str = "GET", data: Any = None, ok: int = 200) -> Endpoint:
    return Endpoint(
        Case("anonymous", method, path, expect(ok), data=data),
        Case("other_resident", method, path, expect(ok), data=data, check=no_contact_data),
        Case("resident", method, path, expect(ok), data=data),
    )


def signed_in(path: Any, method: str = "GET", data: Any = None, ok: int = 200) -> Endpoint:
    return Endpoint(
        Case("anonymous", method, path, expect(401), data=data),
        Case("other_resident", method, path, expect(ok), data=data),
        Case("resident", method, path, expect(ok), data=data),
    )


def _browser_key() -> str:
    """A browser's Web Push public key (an uncompressed P-256 point, base64url)."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def subscription(who: str) -> Any:
    """A browser's push subscription on a vendor's push service; the anonymous one is bound
    to the world's request (an anonymous reporter's "get updates on this phone")."""

    def body(world: World) -> dict[str, Any]:
        data: dict[str, Any] = {
            "endpoint": f"https://fcm.googleapis.com/fcm/send/access-{who}",
            "keys": {"p256dh": _browser_key(), "auth": "c2VjcmV0LWF1dGgtMTZieQ"},
        }
        if who == "anonymous":
            data["service_request_id"] = world.service_request.public_id
        return data

    return body


def vapid_key(world: World, response: Any) -> None:
    if response.status_code == 200:
        assert response.json()["public_key"]


def _own_password(world: World) -> dict[str, str]:
    world.resident.set_password("rita's passphrase 7")
    world.resident.save(update_fields=["password"])
    return {"email": "rita@example.org", "password": "rita's passphrase 7"}


ENTRIES: dict[str, Endpoint] = {
    P + "services": public(f"/{P}services"),
    P + "banner": public(f"/{P}banner"),
    P + "accounts/signup": Endpoint(
        Case(
            "anonymous",
            "POST",
            f"/{P}accounts/signup",
            expect(201),
            data={"email": "new@example.org", "password": "a long passphrase 7"},
        ),
        # An existing account's address cannot be taken over.
        Case(
            "other_resident",
            "POST",
            f"/{P}accounts/signup",
            expect(409),
            data={"email": "rita@example.org", "password": "a long passphrase 7"},
        ),
        Case(
            "resident",
            "POST",
            f"/{P}accounts/signup",
            expect(201),
            data={"email": "second@example.org", "password": "a long passphrase 7"},
        ),
    ),
    P + "accounts/login": Endpoint(
        Case(
            "anonymous",
            "POST",
            f"/{P}accounts/login",
            expect(401),
            data={"email": "rita@example.org", "password": "guess"},
        ),
        Case(
            "other_resident",
            "POST",
            f"/{P}accounts/login",
            expect(401),
            data={"email": "rita@example.org", "password": "otto's own password"},
        ),
        Case("resident", "POST", f"/{P}accounts/login", expect(200), data=_own_password),
    ),
    P + "devices": signed_in(
        f"/{P}devices", "POST", {"platform": "ios", "push_token": "t-1"}, ok=201
    ),
    # The site's public VAPID key: anyone's.
    P + "push/vapid-public-key": Endpoint(
        Case("anonymous", "GET", f"/{P}push/vapid-public-key", expect(200), check=vapid_key),
        Case("other_resident", "GET", f"/{P}push/vapid-public-key", expect(200)),
        Case("resident", "GET", f"/{P}push/vapid-public-key", expect(200)),
    ),
    # A browser subscribes for its account's requests, or anonymously for one request.
    P + "push/subscriptions": Endpoint(
        Case(
            "anonymous",
            "POST",
            f"/{P}push/subscriptions",
            expect(201),
            data=subscription("anonymous"),
        ),
        Case(
            "other_resident",
            "POST",
            f"/{P}push/subscriptions",
            expect(201),
            data=subscription("other"),
        ),
        Case(
            "resident",
            "POST",
            f"/{P}push/subscriptions",
            expect(201),
            data=subscription("resident"),
        ),
    ),
    P + "me/requests": Endpoint(
        Case("anonymous", "GET", f"/{P}me/requests", expect(401)),
        Case("other_resident", "GET", f"/{P}me/requests", expect(200), check=mine_only),
        Case("resident", "GET", f"/{P}me/requests", expect(200)),
    ),
    P + "requests": public(f"/{P}requests", "POST", SUBMIT, ok=201),
    P + "requests/nearby": public(
        f"/{P}requests/nearby?service_code=pothole&lat={BOSTON[0]}&long={BOSTON[1]}"
    ),
    P + "requests/<str:public_id>": public(lambda w: f"/{P}requests/{public_id(w)}"),
    P + "requests/<str:public_id>/timeline": public(
        lambda w: f"/{P}requests/{public_id(w)}/timeline"
    ),
    # Only the reporter corrects a request just filed: adding photos (and PATCH on the
    # request's own path, tests/intake/test_edit.py); anyone else does not see it (404).
    P + "requests/<str:public_id>/photos": Endpoint(
        *(
            Case(
                who,
                "POST",
                lambda w: f"/{P}requests/{public_id(w)}/photos",
                expect(code),
                data=lambda w: {
                    "photos": [SimpleUploadedFile("a.jpg", jpeg_bytes(), "image/jpeg")]
                },
                format="multipart",
                check=no_contact_data,
            )
            for who, code in (("anonymous", 404), ("other_resident", 404), ("resident", 200))
        )
    ),
    # Anyone signed in may follow a public request (instead of filing it again).
    P + "requests/<str:public_id>/follow": signed_in(
        lambda w: f"/{P}requests/{public_id(w)}/follow", "POST"
    ),
    # Anyone may say "me too": signed in, or the app without an account by its Device-Id
    # (neither: 400 naming the header).
    P + "requests/<str:public_id>/support": Endpoint(
        Case("anonymous", "POST", lambda w: f"/{P}requests/{public_id(w)}/support", expect(400)),
        Case(
            "other_resident",
            "POST",
            lambda w: f"/{P}requests/{public_id(w)}/support",
            expect(201),
            check=no_contact_data,
        ),
        Case("resident", "POST", lambda w: f"/{P}requests/{public_id(w)}/support", expect(201)),
    ),
    # Only the reporter answers "was it fixed?".
    P + "requests/<str:public_id>/feedback": Endpoint(
        Case(
            "anonymous",
            "POST",
            lambda w: f"/{P}requests/{closed_public_id(w)}/feedback",
            expect(401),
            data={"fixed": True},
        ),
        Case(
            "other_resident",
            "POST",
            lambda w: f"/{P}requests/{closed_public_id(w)}/feedback",
            expect(404),
            data={"fixed": True},
        ),
        Case(
            "resident",
            "POST",
            lambda w: f"/{P}requests/{closed_public_id(w)}/feedback",
            expect(201),
            data={"fixed": True},
        ),
    ),
    P + "crew/workorders": Endpoint(
        Case("anonymous", "GET", f"/{P}crew/workorders", expect(401)),
        Case(
            "other_crew",
            "GET",
            f"/{P}crew/workorders",
            expect(200),
            check=lambda w, r: _no_orders(r),
        ),
        Case("crew", "GET", f"/{P}crew/workorders", expect(200)),
    ),
    P + "crew/workorders/<str:pk>": Endpoint(
        Case(
            "anonymous",
            "GET",
            lambda w: f"/{P}crew/workorders/{order_pk('assigned')(w)}",
            expect(401),
        ),
        Case(
            "other_crew",
            "GET",
            lambda w: f"/{P}crew/workorders/{order_pk('assigned')(w)}",
            expect(404),
        ),
        Case(
            "crew", "GET", lambda w: f"/{P}crew/workorders/{order_pk('assigned')(w)}", expect(200)
        ),
    ),
    P + "crew/workorders/<str:pk>/start": crew("start", status=WorkOrderStatus.ASSIGNED),
    P + "crew/workorders/<str:pk>/hold": crew(
        "hold", {"reason": "parts"}, status=WorkOrderStatus.IN_PROGRESS
    ),
    P + "crew/workorders/<str:pk>/complete": crew("complete", status=WorkOrderStatus.IN_PROGRESS),
    P + "crew/workorders/<str:pk>/resume": crew("resume", status=WorkOrderStatus.ON_HOLD),
    P + "crew/workorders/<str:pk>/note": crew(
        "note", {"public_note": "On our way."}, status=WorkOrderStatus.IN_PROGRESS
    ),
}


def _no_orders(response: Any) -> None:
    assert response.json() == []
