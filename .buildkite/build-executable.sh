#!/usr/bin/env bash
# The `perf-eval-executable` step of .buildkite/pipeline.yaml, beside the bootstrap (gpu-time.md §4).
# Every GPU step depends_on it and runs `buildkite-agent artifact download perf-eval . --step
# perf-eval-executable`. Order:
#   1. npm ci --omit=dev      runtime dependencies plus esbuild and postject (root dependencies)
#   2. scripts/build-sea.mjs  esbuild bundle of the CLI -> Node single-executable application
#   3. smoke test             --version and `validate` of every recipe, with the executable itself
#   4. artifact upload perf-eval
#
# Environment:
#   PERF_EVAL_SEA_DIR   directory for the executable 'perf-eval' (default: repository root)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SEA_DIR="${PERF_EVAL_SEA_DIR:-.}"
SEA="${SEA_DIR}/perf-eval"
start=${SECONDS}

echo "--- :node: node $(node --version)"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); if (a < 20 || (a === 20 && b < 19)) { console.error(`Node >= 20.19 required, have ${process.versions.node}`); process.exit(1); }'

echo "~~~ :npm: npm ci --omit=dev"
npm ci --omit=dev --no-audit --no-fund

echo "--- :package: build the perf-eval executable"
node scripts/build-sea.mjs --output "${SEA}" --work-dir "${SEA_DIR}/build-sea"
"${SEA}" --version
"${SEA}" validate --quiet

echo "--- :buildkite: artifact upload perf-eval"
# Uploaded under the bare name the GPU steps download.
(cd "${SEA_DIR}" && buildkite-agent artifact upload perf-eval)
echo "perf-eval executable built and uploaded in $((SECONDS - start)) s"
