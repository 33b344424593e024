#!/usr/bin/env bash
# Installs the pinned k6 (the load generator of loadtests/k6/) by building it with Go:
#   GOBIN="${GOBIN:-$HOME/go/bin}" go install go.k6.io/k6@$K6_VERSION
# Skipped when that exact version is already on PATH. Takes about 90 s on a cold Go cache.
# Afterwards put the GOBIN directory on PATH (e.g. export PATH="$PATH:$HOME/go/bin").
set -euo pipefail

K6_VERSION=v1.8.1
GOBIN="${GOBIN:-$HOME/go/bin}"

if command -v k6 >/dev/null 2>&1 && k6 version 2>/dev/null | grep -q "k6 ${K6_VERSION} "; then
  echo "k6 ${K6_VERSION} already on PATH: $(command -v k6)"
  exit 0
fi
if [ -x "$GOBIN/k6" ] && "$GOBIN/k6" version 2>/dev/null | grep -q "k6 ${K6_VERSION} "; then
  echo "k6 ${K6_VERSION} already installed: $GOBIN/k6 (add $GOBIN to PATH)"
  exit 0
fi
command -v go >/dev/null 2>&1 || { echo "install-k6.sh: Go is needed to build k6 ${K6_VERSION} (https://go.dev/dl/)" >&2; exit 1; }

echo "building k6 ${K6_VERSION} into $GOBIN ..."
GOBIN="$GOBIN" go install "go.k6.io/k6@${K6_VERSION}"
"$GOBIN/k6" version
