# Tandem production image: gunicorn for the web, the same image for Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir coordination demand production recalls planning \
    && touch coordination/__init__.py demand/__init__.py production/__init__.py \
        recalls/__init__.py planning/__init__.py \
    && pip install . \
    && pip uninstall -y tandem \
    && rm -rf coordination demand production recalls planning

COPY . .

# collectstatic needs settings but no database: a throwaway key that is not kept.
RUN SECRET_KEY=collectstatic-only-"$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    DEBUG=0 python manage.py collectstatic --noinput

RUN useradd --system --uid 1000 --home /app tandem && chown -R tandem /app
USER tandem

EXPOSE 8000
CMD ["gunicorn", "coordination.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
