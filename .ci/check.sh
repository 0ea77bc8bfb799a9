#!/usr/bin/env bash
# The one CI check, run by .ci/run and by the GitHub workflows alike: lint the code and the
# workflows, then README's test command. Without a data mirror (DATA_MIRROR or ../shared/data)
# the tests that need real data skip, unless REQUIRE_DATA_MIRROR is set (.ci/run and the pull-request workflow set it).
set -euo pipefail
cd "$(dirname "$0")/.."
ruff check .
ruff format --check .
for workflow in .github/workflows/*.yml; do
  npx --yes @action-validator/cli@0.6.0 "$workflow"
done
echo "workflows valid: $(ls .github/workflows/*.yml | tr '\n' ' ')"
python -m pytest -q tests
