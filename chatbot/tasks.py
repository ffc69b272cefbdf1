"""Celery tasks for the chat. Thin: each calls a service."""

from __future__ import annotations

from celery import shared_task

from chatbot import handoffs, services


@shared_task
def chat_photos_sweep() -> int:
    """Deletes chat photos never used, and orphaned raw files (``services.chat_photos_sweep``);
    erases the numbers handoffs kept too long (``handoffs.handoff_numbers_erase``)."""
    handoffs.handoff_numbers_erase()
    return services.chat_photos_sweep()
