#!/bin/sh
# The only step between a clone and ./configure.
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf -fi
