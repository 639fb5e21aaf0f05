# persona-bot: the Telegram bot. Build: docker build -t persona-bot .
# Run:   docker run -e TELEGRAM_BOT_TOKEN=123:abc -v persona-data:/home/bot/data persona-bot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PERSONA_BOT_DATA_DIR=/home/bot/data

RUN useradd --create-home --uid 10001 bot
WORKDIR /app
COPY constraints.txt pyproject.toml README.md ./
COPY bot ./bot
COPY personas ./personas
COPY corpus ./corpus
# Installs the package with personas/ and corpus vocabulary inside it (bot/_data), then warms
# jieba's dictionary cache so the first question is answered fast.
RUN pip install -c constraints.txt . \
 && python -c "from bot.matching import Engine; Engine.load().answer('开源')" \
 && chmod -R a+r /tmp/jieba.cache 2>/dev/null || true

USER bot
RUN mkdir -p /home/bot/data
VOLUME ["/home/bot/data"]
CMD ["persona-bot", "run"]
