# Two stages: Node builds the front end, then a slim Python image serves it (whitenoise) with the API,
# the WebSockets (uvicorn) and, with another command, the Celery worker or beat.

FROM node:22-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TRELLIS_VAR_DIR=/data
WORKDIR /app
RUN useradd --create-home --uid 1000 trellis && mkdir -p /data && chown trellis:trellis /data
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY --chown=trellis:trellis . .
COPY --from=frontend --chown=trellis:trellis /src/frontend/dist ./frontend/dist
USER trellis
EXPOSE 8000
# Migrations run on start so that `docker compose up` is the whole install; they are idempotent.
CMD ["sh", "-c", "python manage.py migrate --noinput && exec python -m uvicorn trellis.asgi:application --host 0.0.0.0 --port 8000 --workers ${WEB_WORKERS:-2} --proxy-headers"]
