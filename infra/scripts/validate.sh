#!/usr/bin/env bash
# Checks infra/terraform with Terraform itself, for a pipeline that has the terraform binary and
# can reach the provider registry (the project's own CI has neither; its vitest suite,
# infra/tests/terraform.test.ts, runs the offline checks):
#   1. terraform fmt -check -recursive
#   2. per env: terraform init -backend=false && terraform validate
#   3. helm lint and helm template of the chart, when helm is installed
# Usage: infra/scripts/validate.sh        (TERRAFORM=/path/to/terraform or tofu to override)
set -euo pipefail

infra="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tf="${TERRAFORM:-terraform}"

if ! command -v "$tf" >/dev/null 2>&1; then
  echo "validate.sh: '$tf' not found; install Terraform >= 1.6 or set TERRAFORM" >&2
  exit 2
fi

echo "== terraform fmt -check -recursive"
"$tf" -chdir="$infra/terraform" fmt -check -recursive -diff

for env in "$infra"/terraform/envs/*/; do
  name="$(basename "$env")"
  echo "== $name: terraform init -backend=false"
  # Quiet on success, the whole log on failure.
  if ! log="$("$tf" -chdir="$env" init -backend=false -input=false -no-color 2>&1)"; then
    echo "$log" >&2
    exit 1
  fi
  echo "== $name: terraform validate"
  "$tf" -chdir="$env" validate -no-color
done

if command -v helm >/dev/null 2>&1; then
  chart="$infra/chart/ctxlab"
  echo "== helm lint / helm template $chart"
  set_args=(--set portal.image.repository=example/portal --set portal.image.tag=0 --set worker.image.repository=example/worker --set worker.image.tag=0)
  helm lint "$chart" "${set_args[@]}"
  helm template ctxlab "$chart" "${set_args[@]}" --set portal.ingress.enabled=true --set caBundle.configMapName=ca >/dev/null
else
  echo "== helm not installed: chart lint skipped"
fi

echo "validate.sh: all checks passed"
