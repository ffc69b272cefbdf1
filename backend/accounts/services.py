"""Accounts of the people who are not admin staff: residents sign up here (the web page and
the mobile API call the same function), everyone signs in with the same checks."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from backend.errors import City311Error


class AccountError(City311Error):
    """A sign-up or sign-in refused, naming the field (and the HTTP status for the API)."""

    def __init__(self, message: str, *, field: str, status_code: int = 400) -> None:
        super().__init__({field: [message]}, field=field, status_code=status_code)

    def __str__(self) -> str:
        return self.message


def _exists_error() -> AccountError:
    return AccountError(
        _("An account with this e-mail exists already."), field="email", status_code=409
    )


def account_signup(*, email: str, password: str, name: str = "") -> User:
    """A resident's account, its e-mail (lower case) as the user name. The password must pass
    the site's validators (``AUTH_PASSWORD_VALIDATORS``); ``AccountError`` otherwise."""
    email = email.strip().lower()
    if User.objects.filter(username__iexact=email).exists():
        raise _exists_error()
    try:
        validate_password(password, user=User(username=email, email=email))
    except ValidationError as exc:
        raise AccountError(" ".join(exc.messages), field="password") from exc
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username=email, email=email, password=password, first_name=name.strip()[:150]
            )
    except IntegrityError as exc:  # the same e-mail signing up twice at once
        raise _exists_error() from exc
    return user


def account_authenticate(*, identifier: str, password: str) -> User | None:
    """The active account with these credentials, or None. No request is passed on purpose:
    the caller applies the rate limit and the lock-out itself, once per attempt
    (``backend.ratelimit.login_throttle`` before, ``login_failed``/``login_succeeded`` after),
    as the mobile API's log-in does."""
    identifier = identifier.strip()
    user = authenticate(username=identifier, password=password)
    if user is None and identifier.lower() != identifier:
        # Residents' user names are their e-mail addresses in lower case (as the mobile
        # log-in reads them); staff names are tried as typed first.
        user = authenticate(username=identifier.lower(), password=password)
    if not isinstance(user, User) or not user.is_active:
        return None
    return user
