"""Chatbot intake: the Django side of the Rasa assistant in ``chatbot/assistant/`` — the
websocket relay for the web widget (``/ws/chat/``), the HTTP endpoint for messaging gateways
(``POST /api/v1/chat/``), photo uploads for the widget, and the append-only conversation
log. The assistant files requests through Open311 with its own API key (channel ``chat``).
How it works: docs/chatbot.md."""
