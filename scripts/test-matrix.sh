#!/usr/bin/env bash
# npm run test:matrix [-- MAJOR…]: the whole test suite on each Node.js line (default: 20 22 24 26).
# The line the machine runs uses its own node; the others are the official binaries from the npm registry
# (package node-linux-<arch>@<major>), unpacked once into .cache/node/<major>/ (git-ignored) and reused.
# Prints each line's Node version and test summary, then one summary per line; exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(20 22 24 26)
source scripts/node-line.sh

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
  # Name what failed in the closing summary too: the log above it may be cut to its tail.
  while IFS= read -r line; do [ -n "$line" ] && summary+=("  failed: $line"); done < <(node -e '
    try {
      const r = require(process.argv[1])
      for (const file of r.testResults) for (const t of file.assertionResults) if (t.status === "failed") {
        const why = (t.failureMessages[0] ?? "").split("\n")[0].slice(0, 200)
        console.log(`${file.name.replace(process.cwd() + "/", "")} > ${t.fullName}: ${why}`)
      }
    } catch {}' "$PWD/$report")
  [ "$code" -eq 0 ] || status=1
done
echo
echo "=== Test matrix ==="
printf '%s\n' "${summary[@]}"
echo "Total: $passed passed, $failed failed, $skipped skipped"
exit $status
