#!/usr/bin/env bash
# Regenerates openapi.json and the TypeScript client and fails when either differs from what is
# committed: every API change reaches review as a diff of the document and of the client.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run --silent client:generate >/dev/null
paths=(openapi.json clients/typescript console/src/api/generated)
if ! git diff --quiet -- "${paths[@]}" || [ -n "$(git status --porcelain -- "${paths[@]}")" ]; then
  echo "The committed OpenAPI document, TypeScript client or console API layer is stale. Run 'npm run client:generate' and commit:" >&2
  git status --short -- "${paths[@]}" >&2
  git --no-pager diff --stat -- "${paths[@]}" >&2
  exit 1
fi
echo "openapi.json, clients/typescript and console/src/api/generated match the code."
