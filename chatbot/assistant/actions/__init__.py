"""The assistant's custom actions (rasa-sdk): they talk to city311 over HTTP only, through
``backend.CityClient`` (Open311 POST/GET with the chatbot's own API key, channel ``chat``)."""
