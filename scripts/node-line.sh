# Sourced by test-matrix.sh and pack-check.sh: node_bin_dir MAJOR prints the bin directory of that Node line.
# The line the machine runs uses its own node; the others are the official binaries from the npm registry
# (package node-linux-<arch>@<major>), unpacked once into .cache/node/<major>/ (git-ignored) and reused.
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

