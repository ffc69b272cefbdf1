# The chat assistant (docs/chatbot.md): Rasa 3.6 and its action server need Python 3.10, so
# they get an image of their own, built from the repo root like docker/Dockerfile. The model
# is trained at build time with the same scripts as `make run`.
FROM python:3.10-slim
ENV PYTHONUNBUFFERED=1 RASA_TELEMETRY_ENABLED=false PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --create-home --uid 10311 assistant
COPY chatbot/assistant/requirements.txt chatbot/assistant/requirements.txt
COPY backend/scripts/chatbot-venv.sh backend/scripts/chatbot-train.sh backend/scripts/chatbot-run.sh backend/scripts/
RUN bash backend/scripts/chatbot-venv.sh
COPY chatbot/assistant chatbot/assistant
RUN bash backend/scripts/chatbot-train.sh && chown -R assistant /app/.var
USER assistant
