#!/usr/bin/env bash
# Checks infra/terraform with Terraform itself, for a pipeline that has the terraform binary and
# can reach the provider registry (the project's own CI has neither; its vitest suite,
# infra/tests/terraform.test.ts, runs the offline checks):
#   1. terraform fmt -check -recursive (the stack, the modules, envs/*.tfvars), and the same
#      formatting for envs/*.backend.hcl
#   2. per env, offline: envs/<env>.tfvars against the stack's variables alone (types,
#      validations, no undeclared variable), with a plan of a copy of stack/variables.tf
#   3. the stack: terraform init -backend=false && terraform validate (needs the registry)
#   4. helm lint and helm template of the chart, when helm is installed
# Usage: infra/scripts/validate.sh        (TERRAFORM=/path/to/terraform or tofu to override)
set -euo pipefail

infra="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tf="${TERRAFORM:-terraform}"
stack="$infra/terraform/stack"
envs="$infra/terraform/envs"

if ! command -v "$tf" >/dev/null 2>&1; then
  echo "validate.sh: '$tf' not found; install Terraform >= 1.6 or set TERRAFORM" >&2
  exit 2
fi

# Runs a command quietly, printing its whole log only when it fails.
quiet() {
  local log
  if ! log="$("$@" 2>&1)"; then
    echo "$log" >&2
    return 1
  fi
}

echo "== terraform fmt -check -recursive"
"$tf" -chdir="$infra/terraform" fmt -check -recursive -diff
for f in "$envs"/*.backend.hcl; do
  # fmt only takes .tf/.tfvars files by name; a backend config goes through stdin.
  if ! "$tf" fmt - <"$f" | diff -u "$f" -; then
    echo "validate.sh: $f is not formatted as terraform fmt would" >&2
    exit 1
  fi
done

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp "$stack/variables.tf" "$scratch/"
quiet "$tf" -chdir="$scratch" init -backend=false -input=false -no-color
for tfvars in "$envs"/*.tfvars; do
  name="$(basename "$tfvars" .tfvars)"
  echo "== $name: $(basename "$tfvars") against the stack's variables"
  if ! log="$("$tf" -chdir="$scratch" plan -input=false -lock=false -no-color -var-file="$tfvars" 2>&1)"; then
    echo "$log" >&2
    exit 1
  fi
  # Terraform only warns about a value for a variable the stack does not declare.
  if grep -q "undeclared variable" <<<"$log"; then
    echo "$log" >&2
    exit 1
  fi
done

echo "== stack: terraform init -backend=false"
quiet "$tf" -chdir="$stack" init -backend=false -input=false -no-color
echo "== stack: terraform validate"
"$tf" -chdir="$stack" validate -no-color

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
