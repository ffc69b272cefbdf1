"""Chatbot intake (to come, chatbot issue): the Django side of the Rasa assistant in
``chatbot/assistant/`` — the websocket relay for the web widget, the HTTP endpoint for
messaging gateways, and the conversation log. The assistant files requests through Open311
with its own API key (channel ``chat``)."""
