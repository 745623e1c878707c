#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing and the demo need. Idempotent.
set -euo pipefail
PKGS=(
  build-essential autoconf automake libtool pkg-config clang
  apache2 apache2-dev libssl-dev libjansson-dev libhiredis-dev libcurl4-openssl-dev
  libcmocka-dev redis-server redis-tools apache2-utils openssl curl
  libapache2-mod-perl2 libapache2-mod-perl2-dev libwww-perl libjson-perl
  libcryptx-perl libcrypt-jwt-perl libio-socket-ssl-perl
  nodejs debhelper dpkg-dev valgrind wrk
)
# Debian's npm is a package of its own; NodeSource's nodejs bundles npm and conflicts with it.
command -v npm >/dev/null || PKGS+=(npm)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
