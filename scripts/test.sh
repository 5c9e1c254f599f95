#!/usr/bin/env bash
# One command from a fresh Debian machine to a full test run: install what is missing, build,
# run every test (unit + integration against the real simulator on 127.0.0.1).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "${LLMD_BUILD_DIR:-$root/build}"
ctest --output-on-failure --parallel "$(nproc)" --timeout 300
