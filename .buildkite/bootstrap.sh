#!/usr/bin/env bash
# The bootstrap step of .buildkite/pipeline.yaml (buildkite.md §3). Order:
#   1. npm ci                                    (Node >= 20.19 on the CPU queue)
#   2. build the workspace, run the unit tests   (a failure blocks the upload)
#   3. validate every recipe                     (D10: the generator itself loads only the selection)
#   4. generate to a file, validating it (Buildkite schema + lints); re-check the written file
#   5. build the self-contained ./perf-eval      (scripts/build-sea.mjs; GPU jobs need no Node) and smoke-test it
#   6. artifact upload: the pipeline file and the executable
#   7. optional: pipeline upload --dry-run       (PERF_EVAL_BOOTSTRAP_DRY_RUN=1, needs a real agent)
#   8. buildkite-agent pipeline upload --no-interpolation <file>
#
# Environment:
#   PERF_EVAL_BUILDKITE_SCHEMA        Buildkite pipeline schema (default ../shared/reference/buildkite/pipeline-schema.json)
#   PERF_EVAL_BOOTSTRAP_REQUIRE_SCHEMA=0   run only the lints when the schema file is absent (default: fail)
#   PERF_EVAL_PIPELINE_FILE           generated pipeline (default pipeline.generated.yaml)
#   PERF_EVAL_SEA_DIR                 directory for the executable 'perf-eval' (default: repository root)
#   PERF_EVAL_BOOTSTRAP_SKIP_TESTS=1  skip step 2's unit tests (the end-to-end test of this script runs inside them)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PIPELINE_FILE="${PERF_EVAL_PIPELINE_FILE:-pipeline.generated.yaml}"
SEA_DIR="${PERF_EVAL_SEA_DIR:-.}"
SEA="${SEA_DIR}/perf-eval"
SCHEMA="${PERF_EVAL_BUILDKITE_SCHEMA:-../shared/reference/buildkite/pipeline-schema.json}"
CLI=(node packages/cli/dist/bin.js)

echo "--- :node: node $(node --version)"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); if (a < 20 || (a === 20 && b < 19)) { console.error(`Node >= 20.19 required, have ${process.versions.node}`); process.exit(1); }'

echo "~~~ :npm: npm ci"
npm ci --no-audit --no-fund

echo "--- :test_tube: build and unit tests"
node node_modules/typescript/bin/tsc --build packages/cli/tsconfig.lib.json
if [[ "${PERF_EVAL_BOOTSTRAP_SKIP_TESTS:-}" == "1" ]]; then
  echo "skipped (PERF_EVAL_BOOTSTRAP_SKIP_TESTS=1)"
else
  PERF_EVAL_BOOTSTRAP_RUNNING=1 node node_modules/vitest/vitest.mjs run --project workload-schema --project pipeline --project cli
fi

echo "--- :white_check_mark: validate every recipe"
"${CLI[@]}" validate --quiet

echo "--- :pipeline: generate ${PIPELINE_FILE}"
# On a real agent ../shared does not exist: fetch the pinned schema (buildkite/pipeline-schema@829d2f7,
# MIT) and verify its hash, so the check never silently validates against something else.
SCHEMA_URL="https://raw.githubusercontent.com/buildkite/pipeline-schema/829d2f7c715b10256b9a4ea23c3798aac9ea25d2/schema.json"
SCHEMA_SHA256="ccd18cb3456e184da076ae40ce917ef3cedd78a312dd3f07a6a7a2d5080c7ea9"
if [[ ! -f "${SCHEMA}" && -z "${PERF_EVAL_BUILDKITE_SCHEMA:-}" ]] && command -v curl >/dev/null 2>&1; then
  fetched="$(mktemp)"
  if curl -fsSL --max-time 30 "${SCHEMA_URL}" -o "${fetched}" && echo "${SCHEMA_SHA256}  ${fetched}" | sha256sum -c --status; then
    SCHEMA="${fetched}"
  else
    echo "warning: could not fetch the pinned Buildkite schema (or its hash differs)"
    rm -f "${fetched}"
  fi
fi
VALIDATE=(--validate --schema "${SCHEMA}")
if [[ ! -f "${SCHEMA}" && "${PERF_EVAL_BOOTSTRAP_REQUIRE_SCHEMA:-1}" == "0" ]]; then
  echo "warning: no Buildkite schema at ${SCHEMA}; running the lints only (PERF_EVAL_BOOTSTRAP_REQUIRE_SCHEMA=0)"
  VALIDATE=()
fi
"${CLI[@]}" pipeline "${VALIDATE[@]}" --output "${PIPELINE_FILE}"
if [[ ${#VALIDATE[@]} -gt 0 ]]; then
  "${CLI[@]}" pipeline "${VALIDATE[@]}" "${PIPELINE_FILE}"
fi

echo "--- :package: build the perf-eval executable"
node scripts/build-sea.mjs --output "${SEA}" --work-dir "${SEA_DIR}/build-sea"
"${SEA}" --version
"${SEA}" validate --quiet

echo "--- :buildkite: upload"
buildkite-agent artifact upload "${PIPELINE_FILE}"
# The GPU steps run 'buildkite-agent artifact download perf-eval .': upload it under that name.
(cd "${SEA_DIR}" && buildkite-agent artifact upload perf-eval)
if [[ "${PERF_EVAL_BOOTSTRAP_DRY_RUN:-}" == "1" ]]; then
  buildkite-agent pipeline upload --dry-run --format json --reject-parse-warnings --no-interpolation "${PIPELINE_FILE}" > /dev/null
fi
buildkite-agent pipeline upload --no-interpolation "${PIPELINE_FILE}"
