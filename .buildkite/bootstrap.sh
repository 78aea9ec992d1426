#!/usr/bin/env bash
# The bootstrap step of .buildkite/pipeline.yaml (buildkite.md §3, gpu-time.md §4): only what protects
# the upload, so the GPU steps exist seconds after the trigger. Order:
#   1. npm ci --omit=dev                         runtime dependencies + esbuild (Node >= 20.19 on the CPU queue)
#   2. bundle the CLI                            scripts/bundle-cli.mjs, ~1-2 s; no tsc, no dev dependencies:
#                                                build-cli/perf-eval.cjs (launcher), perf-eval.bootstrap.cjs
#                                                (validate + pipeline only), perf-eval.all.cjs (every command)
#   3. validate every recipe                     (D10: the generator itself loads only the selection)
#      Steps 3-4 run `node build-cli/perf-eval.cjs validate|pipeline`: the launcher runs the small
#      perf-eval.bootstrap.cjs, compiled with a V8 code cache that this first command writes beside it
#      at exit and the pipeline commands then reuse (scripts/cli-launcher.cjs).
#   4. generate to file(s), validating them (Buildkite schema + lints); re-check the written files
#                                                (> 450 jobs: several files, one upload each, in order)
#   5. artifact upload of the pipeline file(s)
#   6. optional: pipeline upload --dry-run       (PERF_EVAL_BOOTSTRAP_DRY_RUN=1, needs a real agent)
#   7. buildkite-agent pipeline upload --no-interpolation <file>, for each file in order
# Not here: the unit suite (pull-request CI, .ci/run) and the executable (its own step beside this one,
# .buildkite/build-executable.sh, which every GPU step depends_on).
#
# Environment:
#   PERF_EVAL_BUILDKITE_SCHEMA        Buildkite pipeline schema (default ../shared/reference/buildkite/pipeline-schema.json)
#   PERF_EVAL_BOOTSTRAP_REQUIRE_SCHEMA=0   run only the lints when the schema file is absent (default: fail)
#   PERF_EVAL_PIPELINE_FILE           generated pipeline (default pipeline.generated.yaml; several: pipeline.generated.<i>.yaml)
#   PERF_EVAL_CLI_BUNDLE              the CLI entry point to write and run (default build-cli/perf-eval.cjs;
#                                     its bundles and code cache go beside it)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PIPELINE_FILE="${PERF_EVAL_PIPELINE_FILE:-pipeline.generated.yaml}"
BUNDLE="${PERF_EVAL_CLI_BUNDLE:-build-cli/perf-eval.cjs}"
SCHEMA="${PERF_EVAL_BUILDKITE_SCHEMA:-../shared/reference/buildkite/pipeline-schema.json}"
# validate and pipeline open no network connection, and Node 20 reads NODE_EXTRA_CA_CERTS (an agent's
# extra CA bundle) eagerly at start-up: ~70 ms of each command's ~200 ms on the CI machine.
CLI=(env -u NODE_EXTRA_CA_CERTS node "${BUNDLE}")
start=${SECONDS}

echo "--- :node: node $(node --version)"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); if (a < 20 || (a === 20 && b < 19)) { console.error(`Node >= 20.19 required, have ${process.versions.node}`); process.exit(1); }'

echo "~~~ :npm: npm ci --omit=dev"
npm ci --omit=dev --no-audit --no-fund

echo "--- :package: bundle the CLI"
node scripts/bundle-cli.mjs --output "${BUNDLE}"

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
# With --output the command prints the written files, one per line, in upload order.
files_list="$(mktemp)"
"${CLI[@]}" pipeline "${VALIDATE[@]}" --output "${PIPELINE_FILE}" > "${files_list}"
mapfile -t FILES < "${files_list}"
rm -f "${files_list}"
if [[ ${#VALIDATE[@]} -gt 0 ]]; then
  "${CLI[@]}" pipeline "${VALIDATE[@]}" "${FILES[@]}"
fi

echo "--- :buildkite: upload ${#FILES[@]} pipeline file(s)"
for file in "${FILES[@]}"; do
  buildkite-agent artifact upload "${file}"
done
if [[ "${PERF_EVAL_BOOTSTRAP_DRY_RUN:-}" == "1" ]]; then
  for file in "${FILES[@]}"; do
    buildkite-agent pipeline upload --dry-run --format json --reject-parse-warnings --no-interpolation "${file}" > /dev/null
  done
fi
# In order; no generated step depends on another or waits, so each upload's steps start at once.
for file in "${FILES[@]}"; do
  buildkite-agent pipeline upload --no-interpolation "${file}"
done
echo "dispatched ${#FILES[@]} upload(s) in $((SECONDS - start)) s"
