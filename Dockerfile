FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
RUN python manage.py compilemessages --ignore=.venv -v 0 \
    && useradd --system --uid 1000 --home-dir /app lending \
    && mkdir -p /app/staticfiles /app/media /platform-keys /bank-data /faceid-data \
    && chown -R lending /app/staticfiles /app/media /platform-keys /bank-data /faceid-data
USER lending

EXPOSE 8000
CMD ["gunicorn", "lending.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2"]
