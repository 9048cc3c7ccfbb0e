#!/usr/bin/env bash
# `make run`: migrate, then the worker in the background and the web server in front.
# Stopping the server (Ctrl-C) stops the worker too.
set -euo pipefail
bin="${VENV:-.venv}/bin"
"$bin/images-server" migrate
"$bin/images-server" worker &
worker=$!
trap 'kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT
"$bin/images-server" serve
