#!/usr/bin/env bash
# npm run pack-check [-- MAJOR…]: the package as users get it. Packs the project (npm pack), installs the tarball
# into an empty folder without dev or optional dependencies, and there, on each Node line (default: the machine's
# and the newest), runs what a user runs first: `npx cluster-demo --help`, `npx cluster-demo probe`, and `serve`
# (start, one request, SIGTERM, exit 0); `browser` without playwright-core must be one line naming the install.
# Loopback only; every process it starts is stopped; the folder is removed.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/node-line.sh

majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=("$system_major" 26)

work=$(mktemp -d "${TMPDIR:-/tmp}/cluster-demo-pack-XXXXXX")
serve_pid=
cleanup() {
  [ -n "$serve_pid" ] && kill -TERM -- "-$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "pack-check: $*" >&2; exit 1; }

tarball=$(npm pack --silent --pack-destination "$work" | tail -1) || fail "npm pack failed"
echo "pack-check: packed $tarball ($(du -k "$work/$tarball" | cut -f1) kB)"
mkdir "$work/app"
(cd "$work/app" && npm init -y >/dev/null && npm install --omit=dev --omit=optional --no-audit --no-fund --silent "$work/$tarball") ||
  fail "installing the tarball failed"
[ -d "$work/app/node_modules/playwright-core" ] && fail "playwright-core was installed with --omit=optional"

for major in "${majors[@]}"; do
  bin=$(node_bin_dir "$major") || fail "no Node $major"
  export PATH="$bin:$PATH"
  echo "=== pack-check on Node $(node --version), from $work/app ==="
  cd "$work/app"

  npx --no-install cluster-demo --help | grep -q '^Usage: cluster-demo' || fail "--help did not print the usage"
  echo "ok: --help"

  out=$(npx --no-install cluster-demo probe 2>&1) || { echo "$out"; fail "probe exited $?"; }
  echo "$out" | grep -q '✓ all 2 workers handled traffic' || { echo "$out"; fail "probe did not show every worker"; }
  echo "ok: probe ($(echo "$out" | grep -m1 '^Requests:'))"

  # In a process group of its own, signalled as a terminal or a supervisor signals a group: `npm exec` passes
  # a SIGTERM sent to it alone to its shell, not to serve (npm 11), which then keeps running; docs/serve.md.
  setsid npx --no-install cluster-demo serve --port 0 --log json > "$work/serve.log" 2>&1 &
  serve_pid=$!
  url=
  for _ in $(seq 100); do
    url=$(node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n")) { try { const e = JSON.parse(l); if (e.type === "ready") { console.log(e.url); break } } catch {} }' "$work/serve.log")
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { cat "$work/serve.log"; fail "serve did not become ready"; }
  pid=$(node -e 'fetch(process.argv[1] + "/pid").then(async (r) => console.log(r.status, r.headers.get("x-worker-pid"), (await r.text()).trim()))' "$url")
  [[ "$pid" =~ ^200\ [0-9]+ ]] || fail "serve answered: $pid"
  kill -TERM -- "-$serve_pid"
  wait "$serve_pid"
  # npm exits on the group's SIGTERM at once, without waiting for serve, which may still be stopping: wait (at most
  # 10 s) until no process of its session (setsid: a session and group of its own) runs before reading serve's
  # last line. A zombie does not count: serve's primary, orphaned by npm, stays one until the container's init
  # reaps it.
  running() { ps -o stat= --sid "$serve_pid" | grep -qv '^Z'; }
  for _ in $(seq 100); do running || break; sleep 0.1; done
  running && { cat "$work/serve.log"; fail "serve was still running 10 s after SIGTERM"; }
  serve_pid=
  stopped=$(grep -c '"type":"stopped","exitCode":0' "$work/serve.log")
  [ "$stopped" -eq 1 ] || { cat "$work/serve.log"; fail "serve did not stop with exit code 0 after SIGTERM"; }
  pgrep -f "$work/app/node_modules" >/dev/null && fail "a process of the package outlived serve"
  echo "ok: serve (GET /pid → $pid; SIGTERM → stopped, exit 0)"

  out=$(npx --no-install cluster-demo browser 2>&1); code=$?
  [ "$code" -eq 1 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q 'npm install playwright-core' ||
    { echo "$out"; fail "browser without playwright-core: exit $code"; }
  echo "ok: browser without playwright-core → exit 1: $out"
  cd - >/dev/null
done
echo "pack-check: the packed package works on Node ${majors[*]}"
