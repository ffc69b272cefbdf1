"""The transactional outbox: every side effect of a change (queueing a Celery task, a
websocket push, a phone push) is written as a row in the change's own transaction, and a
dispatcher hands it on once it is committed. A change is never committed without its side
effects, and a broker or Redis outage at that moment delays them instead of losing them.
See ``services.py`` and ADR 0015."""
