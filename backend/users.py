"""Who acts, as events and records name them: a person's account, or nobody (anonymous
callers, the system's own scans). One definition for the domain services."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as UserModel

Actor = AbstractBaseUser | AnonymousUser | None


def actor_user(user: Actor) -> UserModel | None:
    """The account behind ``user``, or None for an anonymous caller or no one."""
    return user if isinstance(user, UserModel) else None
