#!/usr/bin/env bash
# Issue 12's before/after comparisons, all in one run, for a bigger machine that has
# neither Node nor network. Every comparison is one invocation of the AFTER build's
# benchmark with the BEFORE build as its `before` system (--before), so before, after and
# the baseline (direct better-sqlite3, or writer-limit) run interleaved on one seeded
# database; then `limit` measures the hardware's raw read ceiling. Writes one JSON and
# one text table per comparison, limit.txt, and summary.md / summary.json (a table per
# goal) to OUT.
#
# Two ways to call it:
#   bash device-run.sh [OUT]
#       next to what bench/device-pack.sh made: node.xz, before.tar.xz, after.tar.xz and
#       read-limit.mjs; unpacks them under /tmp/abathur-cmp first.
#   BEFORE_DIR=… AFTER_DIR=… [NODE=node] bash bench/device-run.sh OUT
#       two built project trees (dist/, sql/, package.json, node_modules/) already here:
#       how it is tested on the development machine.
# OUT defaults to $OUT. Knobs (defaults fit about 6 minutes on 16 cores, the whole run
# under 8): DUR seconds per trial (4), TRIALS per system (3), SEED sessions (5000),
# READERS for the read comparisons (8), HEAVY reader counts ("1 4 8 16"),
# LIMIT thread counts ("1,2,4,8"), BUDGET seconds after which the remaining comparisons
# are skipped and said so (420).
set -u
here=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-${OUT:?give OUT as an argument or in the environment}}
DUR=${DUR:-4}; TRIALS=${TRIALS:-3}; SEED=${SEED:-5000}; READERS=${READERS:-8}
HEAVY=${HEAVY:-1 4 8 16}; LIMIT=${LIMIT:-1,2,4,8}; BUDGET=${BUDGET:-420}
mkdir -p "$OUT"
started=$(date +%s)
log() { echo "[$(( $(date +%s) - started ))s] $*" | tee -a "$OUT/run.log"; }

if [ -z "${BEFORE_DIR:-}" ]; then
  cmp=/tmp/abathur-cmp
  mkdir -p "$cmp"
  [ -x "$cmp/node" ] || { xz -dc "$here/node.xz" > "$cmp/node" && chmod +x "$cmp/node"; }
  for side in before after; do
    [ -d "$cmp/$side" ] || { mkdir -p "$cmp/$side.tmp" && tar xJf "$here/$side.tar.xz" -C "$cmp/$side.tmp" && mv "$cmp/$side.tmp/app" "$cmp/$side" && rm -rf "$cmp/$side.tmp"; }
  done
  BEFORE_DIR=$cmp/before; AFTER_DIR=$cmp/after; NODE=$cmp/node
  LIMIT_SCRIPT=${LIMIT_SCRIPT:-$here/read-limit.mjs}
fi
NODE=${NODE:-node}
LIMIT_SCRIPT=${LIMIT_SCRIPT:-}
bench="$AFTER_DIR/dist/bench/main.js"
[ -f "$bench" ] || { echo "no benchmark at $bench: AFTER_DIR must be a built tree of this branch" >&2; exit 2; }
[ -f "$BEFORE_DIR/dist/src/index.js" ] || { echo "no build at $BEFORE_DIR/dist/src/index.js" >&2; exit 2; }
export PATH="$(dirname "$(command -v "$NODE")"):$PATH"
log "node $("$NODE" --version), $(nproc) cores; before=$BEFORE_DIR after=$AFTER_DIR; DUR=$DUR TRIALS=$TRIALS SEED=$SEED READERS=$READERS"

# compare NAME [bench options]: one invocation, its table in NAME.txt, its results in NAME.json.
compare() {
  local name=$1; shift
  if [ $(( $(date +%s) - started )) -ge "$BUDGET" ]; then log "skipped $name: past the ${BUDGET}s budget"; return; fi
  log "$name: $*"
  ( cd "$AFTER_DIR" && timeout 240 "$NODE" "$bench" --before "$BEFORE_DIR" --duration "$DUR" --trials "$TRIALS" \
      --seed-sessions "$SEED" --json "$OUT/$name.json" "$@" ) > "$OUT/$name.txt" 2>&1 \
    || log "$name failed (exit $?): $(tail -3 "$OUT/$name.txt" | tr '\n' ' ')"
}

# 1. writer at its single-connection ceiling
compare write --mix write --sessions 64 --readers "$READERS" --systems before,facade,writer-limit
# 2. commit latency under the saturating mix
compare mixed-saturating --mix mixed --think immediate --sessions 64 --readers "$READERS" --systems before,facade,direct
# 3. point reads past direct
compare read-256 --mix read --sessions 256 --readers "$READERS" --systems before,facade,direct
compare read-64 --mix read --sessions 64 --readers "$READERS" --systems before,facade,direct
# 4. tails under the paced mix
compare paced --mix mixed --think 40 --sessions 64 --readers "$READERS" --systems before,facade,direct
# 5. heavy reads against reader threads
for r in $HEAVY; do compare "heavy-$r" --mix heavy --sessions 64 --readers "$r" --systems before,facade; done
# 6. the caller's thread (issue 22): ADK Runner turns as sessions grow, LangGraph at saver level,
#    this build against the before build in the same run (each its own invocation, its own budget check)
run22() {
  local name=$1; shift
  if [ $(( $(date +%s) - started )) -ge "$BUDGET" ]; then log "skipped $name: past the ${BUDGET}s budget"; return; fi
  log "$name: $*"
  ( cd "$AFTER_DIR" && timeout 300 "$NODE" "$bench" --before "$BEFORE_DIR" --json "$OUT/$name.json" "$@" ) > "$OUT/$name.txt" 2>&1 \
    || log "$name failed (exit $?): $(tail -3 "$OUT/$name.txt" | tr '\n' ' ')"
}
run22 adk-runner --adk-runner --events 10,100,1000 --sessions 64 --duration "$DUR" --trials "$TRIALS" --decode-cache-bytes 1073741824
run22 adk-runner-10k --adk-runner --events 100,10000 --systems abathur,before --sessions 64 --duration "$DUR" --trials 1 --decode-cache-bytes 1073741824
run22 langgraph --langgraph --threads 64 --invokes 20 --trials "$TRIALS" --workloads saver,saver-large
# the caller's CPU per point read (issue 22's 16-core target: at most 3 µs) and per getTuple,
# the two builds alternating (bench/read-path.ts: a script of its own, not a bench option)
if [ $(( $(date +%s) - started )) -ge "$BUDGET" ]; then
  log "skipped read-path: past the ${BUDGET}s budget"
else
  log "read-path: --only point,tuple"
  ( cd "$AFTER_DIR" && timeout 300 "$NODE" dist/bench/read-path.js --before "$BEFORE_DIR" --only point,tuple --trials "$TRIALS" --duration "$DUR" ) \
    > "$OUT/read-path.txt" 2>&1 || log "read-path failed (exit $?): $(tail -3 "$OUT/read-path.txt" | tr '\n' ' ')"
fi
# the hardware's read ceiling
if [ -n "$LIMIT_SCRIPT" ] && [ -f "$LIMIT_SCRIPT" ]; then
  log "limit $LIMIT"
  APP_DIR="$AFTER_DIR" timeout 120 "$NODE" "$LIMIT_SCRIPT" "$LIMIT" 2000 > "$OUT/limit.txt" 2>&1 || log "limit failed: $(tail -2 "$OUT/limit.txt")"
else
  log "no read-limit.mjs given (LIMIT_SCRIPT): limit skipped"
fi

"$NODE" "$AFTER_DIR/dist/bench/device-summary.js" "$OUT" > /dev/null 2>> "$OUT/run.log" || log "summary failed"
log "done; tables in $OUT/summary.md"
