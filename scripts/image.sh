#!/usr/bin/env bash
# Builds the llmd-bench container image from scripts/k8s/Containerfile, tagged with the project
# version of CMakeLists.txt, and pushes it when a registry is given.
#
#   scripts/image.sh [--push] [--registry REG] [--kubectl-version vX.Y.Z] [--tool podman|docker] [--dry-run]
#
#   image     ${REGISTRY:+$REGISTRY/}llmd-bench:VERSION (VERSION from `project(llmd-bench VERSION ...)`)
#   --push    also push it (needs --registry or $REGISTRY: a bare local name is never pushed)
#   --kubectl-version  the registry.k8s.io/kubectl tag copied into the image (Containerfile's
#             KUBECTL_VERSION; pick one within one minor version of the clusters' API servers)
#   --tool    podman (default when installed) or docker; $IMAGE_TOOL does the same
#   --dry-run print the commands, one per line, and run nothing (no network, no build tool needed)
# Exit codes: 0 done, 2 bad usage (unknown flag, missing value, --push without a registry,
# no version in CMakeLists.txt, no build tool), else the build tool's own code.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
registry="${REGISTRY:-}"
tool="${IMAGE_TOOL:-}"
kubectl_version=""
push=false
dry_run=false

usage_error() {
  echo "image.sh: error: $1" >&2
  echo "usage: scripts/image.sh [--push] [--registry REG] [--kubectl-version vX.Y.Z] [--tool podman|docker] [--dry-run]" >&2
  exit 2
}

value_of() {  # value_of FLAG "$#" NEXT: the flag's value, or a usage error
  [ "$2" -ge 2 ] && [ -n "$3" ] || usage_error "$1 needs a value"
  printf '%s' "$3"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --push) push=true ;;
    --dry-run) dry_run=true ;;
    --registry) registry="$(value_of "$1" "$#" "${2:-}")"; shift ;;
    --kubectl-version) kubectl_version="$(value_of "$1" "$#" "${2:-}")"; shift ;;
    --tool) tool="$(value_of "$1" "$#" "${2:-}")"; shift ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage_error "unknown argument \"$1\"" ;;
  esac
  shift
done

version="$(sed -n 's/^project(llmd-bench VERSION \([0-9][0-9.]*\).*/\1/p' "${root}/CMakeLists.txt")"
[ -n "${version}" ] || usage_error "no \`project(llmd-bench VERSION x.y.z\` line in ${root}/CMakeLists.txt"
if [ -n "${kubectl_version}" ] && ! [[ "${kubectl_version}" =~ ^v1\.[0-9]+\.[0-9]+$ ]]; then
  usage_error "--kubectl-version \"${kubectl_version}\": expected a registry.k8s.io/kubectl tag like v1.34.8"
fi
if [ -z "${tool}" ]; then
  if command -v podman >/dev/null 2>&1; then tool=podman; elif command -v docker >/dev/null 2>&1; then tool=docker; fi
fi
case "${tool}" in
  podman|docker) ;;
  "") ${dry_run} && tool=podman || usage_error "neither podman nor docker is installed (or pass --tool)" ;;
  *) usage_error "--tool \"${tool}\": expected podman or docker" ;;
esac
registry="${registry%/}"
image="${registry:+${registry}/}llmd-bench:${version}"
${push} && [ -z "${registry}" ] && usage_error "--push needs --registry REG (or \$REGISTRY): ${image} names no registry"

build=("${tool}" build -f "${root}/scripts/k8s/Containerfile" -t "${image}")
[ -n "${kubectl_version}" ] && build+=(--build-arg "KUBECTL_VERSION=${kubectl_version}")
build+=("${root}")
commands=("$(printf '%q ' "${build[@]}")")
${push} && commands+=("$(printf '%q ' "${tool}" push "${image}")")

for command in "${commands[@]}"; do
  if ${dry_run}; then
    echo "${command% }"
  else
    echo "+ ${command% }" >&2
    eval "${command}"  # each word was quoted by printf %q above
  fi
done
${dry_run} || echo "image.sh: built ${image}$(${push} && echo ", pushed")" >&2
