# Sourced by run.sh (which defines log and runs in the repository root).
#
# ensure_npm_deps: installs npm dependencies from package-lock.json whenever it changed since the
# last install, then checks that the install left the lockfile as it found it. A lockfile that
# `npm install` rewrites is out of date (e.g. it lacks the optional packages of other platforms):
# a fresh clone ends up dirty and every checkout may resolve differently. CI fails on it, since
# what it tested is then not what is committed; a developer gets a warning instead, because the
# rewritten lockfile is usually just what their change needs, and the fix is to commit it.
ensure_npm_deps() {
  local stamp="node_modules/.ctxlab-lock.sha" before after
  before="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$before" ]; then return 0; fi
  log "installing npm dependencies (npm install from package-lock.json)"
  # Explicit: run.sh calls this as `ensure_npm_deps || exit 1`, where bash suspends set -e.
  npm install --no-audit --no-fund --loglevel=error >&2 || return 1
  after="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ "$after" != "$before" ]; then
    log $'\033[1mnpm install changed package-lock.json\033[0m: the committed lockfile does not match package.json'
    log "  and what npm resolves (see: git diff package-lock.json). Fix: commit the updated package-lock.json."
    case "${CI:-}" in
      true | 1)
        log "failing, as CI must install exactly the committed lockfile"
        return 1
        ;;
    esac
  fi
  # The stamp names the lockfile as the install left it, so the next command does not reinstall.
  echo "$after" > "$stamp"
}
