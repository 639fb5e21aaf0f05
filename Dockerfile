# persona-bot: the Telegram bot.
#   docker build -t persona-bot .
#   docker run -e TELEGRAM_BOT_TOKEN=123:abc -v persona-data:/home/bot/data persona-bot
# Every build step is scripts/build_image.sh (tests/test_docker.py runs it the same way, and lints
# this file with hadolint). Stopping: SIGTERM stops fetching, running handlers get 1.5 s and the
# process exits (measured 1.4 s with 900 questions queued); what was not answered stays in the
# journal for the next start. Docker's default grace (10 s, `docker stop -t`) is ample.

# --- build: a virtual environment with the package and its pinned dependencies ---
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY constraints.txt pyproject.toml README.md ./
COPY bot ./bot
COPY personas ./personas
COPY corpus ./corpus
COPY scripts/build_image.sh ./scripts/
RUN ./scripts/build_image.sh install /src /opt/venv

# --- serve: the interpreter, the environment and the warmed caches; no pip, no compilers ---
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 HOME=/home/bot \
    PERSONA_BOT_DATA_DIR=/home/bot/data
RUN useradd --create-home --uid 10001 --user-group bot
COPY --from=build /opt/venv /opt/venv
COPY scripts/build_image.sh docker/healthcheck.py /opt/persona-bot/
USER 10001:10001
# The index and jieba's dictionary cache are built now, into the bot user's private cache, so
# the first question after `docker run` is answered without building anything.
RUN /opt/persona-bot/build_image.sh warm /opt/venv && mkdir -p /home/bot/data
VOLUME ["/home/bot/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/opt/persona-bot/healthcheck.py"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["persona-bot"]
CMD ["run"]
