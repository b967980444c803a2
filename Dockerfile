# syntax=docker/dockerfile:1
#
# autostack: one image for every role. The default command runs the web tier; the worker runs the
# same image with `autostack worker` (see deploy/docker-compose.yml and deploy/k8s/).
#
#   docker build -t autostack:0.1.0 --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" .
#
# Reproducible: every dependency is installed from requirements/runtime.lock, pinned with hashes
# (`make lock` writes it), so two builds a month apart install the same versions. Pin the base image
# by digest as well (PYTHON_IMAGE=python:3.11-slim@sha256:...) for a byte-for-byte rebuild.
#
# No secret is read at build time: FRAMEIO_TOKEN, FRAMEIO_CLIENT_SECRET and FRAMEIO_WEBHOOK_SECRETS
# come from the environment at run time (a Kubernetes Secret or the compose .env file).

ARG PYTHON_IMAGE=python:3.11-slim

# ---- build: the locked dependencies' wheels (hash-checked), and autostack's own wheel ------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements/runtime.lock requirements/runtime.lock
RUN pip wheel --no-cache-dir --require-hashes --wheel-dir /wheels -r requirements/runtime.lock
COPY pyproject.toml README.md ./
COPY service/ service/
COPY workers/ workers/
COPY sandbox/ sandbox/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# ---- runtime: the wheels installed, no compiler, no source tree, a fixed non-root user ---------
FROM ${PYTHON_IMAGE} AS runtime

ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="autostack" \
      org.opencontainers.image.description="Stacks Frame.io V4 uploads into Version Stacks by file name (web tier and RQ workers)." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Proprietary" \
      org.opencontainers.image.base.name="python:3.11-slim"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A named user with a fixed uid/gid (10001), so getpass/pwd lookups work and Kubernetes can check
# runAsNonRoot against a numeric USER.
RUN groupadd --system --gid 10001 autostack \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin autostack

# The wheels are bind-mounted from the build stage, so they never become a layer of this image. The
# dependencies are installed against the lock's hashes; autostack's wheel adds no dependency of its own.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    --mount=type=bind,from=build,source=/src/requirements,target=/requirements \
    pip install --no-cache-dir --no-index --find-links=/wheels --require-hashes -r /requirements/runtime.lock \
 && pip install --no-cache-dir --no-index --no-deps /wheels/frameio_autostack-*.whl

WORKDIR /app
USER 10001:10001
EXPOSE 8000

# Only the web role serves HTTP: compose disables this check for the worker, and Kubernetes ignores
# HEALTHCHECK (it uses the probes in deploy/k8s/). /healthz answers while the process is alive.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]

# uvicorn finishes in-flight requests on SIGTERM (the default stop signal).
STOPSIGNAL SIGTERM
CMD ["autostack", "serve", "--host", "0.0.0.0", "--port", "8000"]
