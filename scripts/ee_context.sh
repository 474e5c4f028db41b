#!/usr/bin/env bash
# Create the execution environment's build context from execution-environment.yml, offline.
#
#   bash scripts/ee_context.sh [CONTEXT_DIR]      # default: build/ee/context
#
# 1. Builds this collection's Galaxy artifact into build/ee/ (emptied first, so exactly one artifact is
#    there: execution-environment.yml copies build/ee/asr-process_server-*.tar.gz into the context).
# 2. Runs `ansible-builder create` (no container engine, no network: create only writes files; Galaxy and
#    PyPI are reached later, by the image build).
# 3. Checks the context: Containerfile, the galaxy/python/system requirement files identical to
#    collections/requirements.yml, meta/ee-requirements.txt and meta/ee-bindep.txt, the artifact, and the
#    Containerfile steps that install them.
# Then build the image with `podman build -t asr-process-server-ee:latest CONTEXT_DIR` (docs/execution-environment.md).
# Uses the ansible-galaxy and ansible-builder found on PATH (scripts/test.sh puts the lane's venv first).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CONTEXT="${1:-build/ee/context}"
case "$CONTEXT" in /*) ;; *) CONTEXT="$ROOT/$CONTEXT" ;; esac

fail() { echo "ee_context: $*" >&2; exit 1; }

rm -rf build/ee/asr-process_server-*.tar.gz "$CONTEXT"
mkdir -p build/ee
ansible-galaxy collection build --force --output-path build/ee "$ROOT" >/dev/null
artifacts=(build/ee/asr-process_server-*.tar.gz)
((${#artifacts[@]} == 1)) && [[ -f "${artifacts[0]}" ]] || fail "expected one artifact in build/ee, found: ${artifacts[*]}"
echo "ee_context: collection artifact ${artifacts[0]}"

ansible-builder create -f execution-environment.yml --context "$CONTEXT" --output-filename Containerfile -v1

same() { cmp -s "$1" "$2" || fail "$2 differs from $1"; }
[[ -s "$CONTEXT/Containerfile" ]] || fail "no Containerfile in $CONTEXT"
same collections/requirements.yml "$CONTEXT/_build/requirements.yml"
same meta/ee-requirements.txt "$CONTEXT/_build/requirements.txt"
same meta/ee-bindep.txt "$CONTEXT/_build/bindep.txt"
same "${artifacts[0]}" "$CONTEXT/_build/collections/$(basename "${artifacts[0]}")"
shipped=("$CONTEXT"/_build/collections/*)
((${#shipped[@]} == 1)) || fail "the context carries more than the one collection artifact: ${shipped[*]}"
for want in \
    'ARG EE_BASE_IMAGE="ghcr.io/ansible-community/community-ee-base:latest"' \
    'ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml' \
    '/build/collections/asr-process_server-*.tar.gz' \
    'COPY _build/requirements.txt requirements.txt' \
    'COPY _build/bindep.txt bindep.txt'; do
    grep -qF -- "$want" "$CONTEXT/Containerfile" || fail "Containerfile lacks: $want"
done
echo "ee_context: build context ready in $CONTEXT (podman build -t asr-process-server-ee:latest $CONTEXT)"
