#!/usr/bin/env bash
# Installs the Debian packages llmd-bench needs to build and test, only those that are missing.
# Idempotent and quick when everything is there. Needs root (or sudo) only when installing.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libcurl4-openssl-dev libcli11-dev nlohmann-json3-dev libfmt-dev libyaml-cpp-dev
  libboost-dev libexpected-dev libgtest-dev libgmock-dev
  libssl-dev  # libcrypto: util::sha256_hex, the scenario hash that merge checks in shard results
  curl ca-certificates
  nginx openssl  # the HTTP/2 and TLS integration tests serve a recorded stream from a local nginx
  prometheus     # the `cache: {source: prometheus}` tests start the real server on 127.0.0.1
  prometheus-pushgateway  # the `--out prometheus-push=URL` test pushes to the real Pushgateway on 127.0.0.1
  haproxy        # the buffering-proxy test (stream_buffered) puts a local HAProxy in front of the simulator
  python3-jsonschema  # ctest result_schema_validation: every result the tests write against schema/result-v1.schema.json
  chromium fonts-dejavu-core  # the HTML report's browser test: headless Chromium loads a real run's report offline
)
packages+=("$@")  # extra packages a caller needs (bench.sh adds its peers)
# kubectl (the Kubernetes tests run the real binary): keep one that is on PATH, from whatever
# package; else Debian's kubernetes-client provides it.
command -v kubectl >/dev/null 2>&1 || packages+=(kubernetes-client)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: error: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2; exit 2; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
