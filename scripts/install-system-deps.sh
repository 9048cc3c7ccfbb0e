#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages images-server needs, only those missing.
# Used by `make run`, `make test` (and so CI) and the Dockerfile, so all three agree.
set -euo pipefail

packages=(
  imagemagick        # the `convert` CLI: reference results for tests
  libmagickwand-dev  # libMagickWand for the Wand engine
  python3-venv
  redis-server       # rate-limit counters at scale (tests start their own on loopback)
  postgresql         # metadata database at scale (tests start their own on loopback)
  nodejs             # runs the JavaScript signing client's tests
  nginx              # the HTTP response cache in front (tests start their own on loopback)
  libnginx-mod-http-cache-purge  # lets DELETE and /purge evict NGINX's cached entries
  wrk                # `make bench-nginx`: bounded load runs on loopback
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
