#!/usr/bin/env bash
# Packs what bench/device-run.sh needs on a machine with no Node and no network: this
# Node binary, two built project trees (before and after) with their runtime modules, the
# raw read-ceiling script, and device-run.sh itself. Adapted from
# ../shared/tools/device-bundle.sh, for two trees.
#   bash bench/device-pack.sh BEFORE_ROOT AFTER_ROOT [PACK_DIR]
# BEFORE_ROOT, AFTER_ROOT: project roots after `npm ci && npm run build` (e.g. a checkout
# of the commit to compare against, and this one). PACK_DIR defaults to ./.device-compare (add it to .git/info/exclude).
# On the device: bash PACK_DIR/device-run.sh "$OUT"
# BENCH_PEERS: development dependencies packed too, for the adapter benchmarks (issue 22).
export BENCH_PEERS=${BENCH_PEERS:-"@google/adk @langchain/core @langchain/langgraph @langchain/langgraph-checkpoint @langchain/langgraph-checkpoint-sqlite hdr-histogram-js"}
set -euo pipefail
before=$(readlink -f "$1"); after=$(readlink -f "$2"); pack=${3:-.device-compare}
here=$(cd "$(dirname "$0")" && pwd)
for root in "$before" "$after"; do
  [ -f "$root/package.json" ] && [ -f "$root/dist/src/index.js" ] || { echo "$root: not a built project root" >&2; exit 2; }
done
[ -f "$after/dist/bench/main.js" ] && [ -f "$after/dist/bench/device-summary.js" ] || { echo "$after: has no built benchmark with device-summary (this branch's)" >&2; exit 2; }
rm -rf "$pack"; mkdir -p "$pack"
stage=$(mktemp -d)
for side in before after; do
  root=$before; [ $side = after ] && root=$after
  mkdir -p "$stage/$side/app"
  cp -r "$root/dist" "$root/sql" "$root/package.json" "$stage/$side/app/"
  # Only the runtime dependencies (and theirs), found from package.json; no peers, no dev tools.
  node -e '
    const { existsSync, readFileSync } = require("node:fs");
    const { join } = require("node:path");
    const root = process.argv[1];
    const seen = new Set();
    const visit = (pkgDir) => {
      const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
      for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
        // Resolved as Node would: nested first, then up to the root node_modules.
        let dir = pkgDir, found;
        for (;;) {
          const candidate = join(dir, "node_modules", name);
          if (existsSync(join(candidate, "package.json"))) { found = candidate; break; }
          if (dir === root) break;
          dir = join(dir, "..");
        }
        if (found === undefined || seen.has(found)) continue;
        seen.add(found);
        visit(found);
      }
    };
    visit(root);
    // The frameworks the adapter benchmarks load (issue 22: --adk-runner, --langgraph),
    // development dependencies of this package, and what they need.
    for (const name of (process.env.BENCH_PEERS ?? "").split(" ").filter(Boolean)) {
      const dir = join(root, "node_modules", name);
      if (!existsSync(join(dir, "package.json")) || seen.has(dir)) continue;
      seen.add(dir);
      visit(dir);
    }
    for (const dir of seen) console.log(dir.slice(root.length + 1));
  ' "$root" | while read -r rel; do
    mkdir -p "$stage/$side/app/$(dirname "$rel")"
    cp -rL "$root/$rel" "$stage/$side/app/$rel"
  done
  for m in better-sqlite3; do
    d="$stage/$side/app/node_modules/$m"
    [ -d "$d" ] || continue
    rm -rf "$d/deps" "$d/src"
    find "$d/build" -type f ! -name '*.node' -delete 2>/dev/null || true
  done
  tar -C "$stage/$side" -cf - app | xz -T0 -6 > "$pack/$side.tar.xz"
done
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > "$pack/node.xz"
limit=${READ_LIMIT:-$here/../../shared/tools/read-limit.mjs}
if [ -f "$limit" ]; then cp "$limit" "$pack/read-limit.mjs"; else echo "no read-limit.mjs found (READ_LIMIT): limit will be skipped" >&2; fi
cp "$here/device-run.sh" "$pack/"
rm -rf "$stage"
du -sh "$pack"
