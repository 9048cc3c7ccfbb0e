# images-server: `docker build -t images-server .`, then `docker run -p 8000:8000 images-server`.
# Two stages: the builder turns the source into a wheel and a venv holding it and its
# dependencies (all of them wheels: libvips ships inside pyvips-binary); the runtime stage
# adds only libMagickWand, by the same script `make run` and `make test` use, and the venv.
# tests/deploy/test_dockerfile.py runs these build steps without Docker and lints this file.

ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
# pip compiles the venv's bytecode here: at run time /opt/venv is not writable
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY setup.cfg pyproject.toml README.md LICENSE ./
COPY images_server/ images_server/
RUN python -m venv /opt/venv \
    && pip wheel . --no-deps --wheel-dir /wheels \
    && /opt/venv/bin/pip install /wheels/*.whl

FROM ${PYTHON_IMAGE} AS runtime
COPY scripts/install-system-deps.sh /tmp/install-system-deps.sh
RUN bash /tmp/install-system-deps.sh --runtime \
    && rm /tmp/install-system-deps.sh \
    && groupadd --system --gid 10001 images \
    && useradd --system --no-log-init --uid 10001 --gid images --create-home --home-dir /srv/images images
# The app loads this policy itself; installed system-wide too, so every ImageMagick
# in the image refuses what images-server refuses
COPY images_server/engines/imagemagick/policy.xml /etc/ImageMagick-6/policy.xml
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    IMAGES_HOST=0.0.0.0 \
    IMAGES_PORT=8000 \
    IMAGES_DATA_DIR=/srv/images/data
USER 10001:10001
WORKDIR /srv/images
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['IMAGES_PORT'], timeout=4)"]
CMD ["images-server", "serve"]
