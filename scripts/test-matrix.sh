#!/usr/bin/env bash
# npm run test:matrix [-- MAJOR…]: the whole test suite on each Node.js line (default: 20 22 24 26).
# The line the machine runs uses its own node; the others are the official binaries from the npm registry
# (package node-linux-<arch>@<major>), unpacked once into .cache/node/<major>/ (git-ignored) and reused.
# Prints each line's Node version and test summary, then one summary per line; exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(20 22 24 26)
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "test:matrix: no official Node binaries on the npm registry for $(uname -m)" >&2; exit 1 ;;
esac
system_major=$(node -p 'process.versions.node.split(".")[0]')

node_bin_dir() { # prints the bin directory of Node line $1, installing it when needed
  local major=$1 dir=.cache/node/$1
  if [ "$major" = "$system_major" ]; then dirname "$(command -v node)"; return; fi
  if [ ! -x "$dir/bin/node" ]; then
    echo "test:matrix: installing node-linux-$arch@$major from the npm registry into $dir" >&2
    local tmp; tmp=$(mktemp -d)
    if ! (cd "$tmp" && npm pack "node-linux-$arch@$major" --silent >/dev/null && tar xzf node-linux-*.tgz); then
      rm -rf "$tmp"; echo "test:matrix: could not get node-linux-$arch@$major from the npm registry" >&2; return 1
    fi
    rm -rf "$dir"; mkdir -p "$(dirname "$dir")"; mv "$tmp/package" "$dir"; rm -rf "$tmp"
  fi
  echo "$PWD/$dir/bin"
}

npm run --silent typecheck || exit 1
summary=()
status=0
passed=0 failed=0 skipped=0
for major in "${majors[@]}"; do
  if ! bin=$(node_bin_dir "$major"); then summary+=("node $major: not installed"); status=1; continue; fi
  version=$("$bin/node" --version)
  report=.cache/vitest-node$major.json
  mkdir -p .cache
  echo
  echo "=== Node $version ==="
  PATH="$bin:$PATH" "$bin/node" node_modules/vitest/vitest.mjs run --config test/vitest.config.ts \
    --reporter=default --reporter=json --outputFile.json="$report"
  code=$?
  read -r p f s < <(node -e 'try { const r = require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests, r.numPendingTests + r.numTodoTests) } catch { console.log(0, 1, 0) }' "$PWD/$report")
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  summary+=("node $version: $p passed, $f failed, $s skipped (vitest exit $code)")
  [ "$code" -eq 0 ] || status=1
done
echo
echo "=== Test matrix ==="
printf '%s\n' "${summary[@]}"
echo "Total: $passed passed, $failed failed, $skipped skipped"
exit $status
