#!/usr/bin/env bash
# Compares raft4j's benchmark tool (raft-kv.jar bench) with the peer Java Raft libraries of
# ../shared/peers (see ../shared/BENCHMARK.md), case by case, back to back on this machine, and
# prints one markdown table on stdout (progress goes to stderr).
#
#   raft-examples/bench/compare.sh                          # build both, all cases, 3 runs each
#   RUNS=1 WARMUP=1 DURATION=2 CASES="2" SKIP_BUILD=1 raft-examples/bench/compare.sh
#   DRY=1 raft-examples/bench/compare.sh                    # only print the commands
#
# Cases (ours vs one peer, same path / clients / size / fsync):
#   1  embedded 64 x 128  fsync      vs jraft embedded            ops >= 4x and our p99 <= 1/2 of theirs
#   2  embedded  1 x 128  fsync      vs microraft-sqlite embedded ops >= 2.5x and our p50 <= 1.3 x
#                                       (fsync probe p50 + loopback TCP round trip p50, 1 outstanding)
#   3  embedded 64 x 4096 fsync      vs jraft embedded            ops >= 3x
#   4  client   64 x 128  fsync      vs jraft client              ops >= 2x
#                                       (the 64 clients share CLIENT_CONNECTIONS RESP connections,
#                                       pipelined; the peers harness sends all of SOFAJRaft's over
#                                       one bolt connection)
#   5  embedded 64 x 128  no fsync   vs microraft (in-memory log) ops >= 1x
#   6  cases 1-5 again, ours only, heap -Xmx512m, vs our own default-heap median: ops >= 0.9x
#      (for the cases among 1-5 also selected, or all five if none is; each with default-heap runs
#      of its own, alternating with the -Xmx512m runs)
#
# Each figure is the median run (by ops_per_s; the whole JSON line of that run gives the
# latencies) of RUNS runs; the runs of a case alternate ours, peer, ours, peer, ... One benchmark
# at a time, each under `timeout`; a failed run is logged and recorded as missing.
#
# Environment:
#   CASES="1 2 3 4 5 6"   subset of cases to run
#   RUNS=3  WARMUP=8  DURATION=20     runs per system and case, warm-up and measured seconds
#   JVM_OPTS="-Xms1g -Xmx4g"          JVM options of every run (the peers' run-all.sh default);
#                                     case 6 drops -Xms/-Xmx from them and adds -Xmx512m
#   JAVA=java                         the JVM
#   PEERS_DIR=<project>/../shared/peers             the peers harness (read only; copied)
#   PEERS_WORK=${TMPDIR:-/tmp}/raft4j-peers         where it is copied and built
#   OUT_DIR=<project>/raft-examples/bench/results   bench-results-<date>.jsonl (+ .log) go here
#   SKIP_BUILD=1          build neither (needs raft-kv.jar and $PEERS_WORK/target/peers.jar);
#   SKIP_BUILD_OURS=1 / SKIP_BUILD_PEERS=1 skip one of the two builds
#   RUN_TIMEOUT=300       seconds per run before it is killed and recorded as missing
#   CLIENT_CONNECTIONS=1  RESP connections our client-path clients share (0: one per client)
#   PROBE_SECONDS=2       seconds per measurement of the fsync and tcp probes (run once, first)
#   QUIET_WAIT=3          before each run, wait up to this many seconds for the host to go idle
#   DRY=1                 print the commands instead of running them (nothing is written)
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$BENCH_DIR/../.." && pwd)"

CASES=${CASES:-"1 2 3 4 5 6"}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-8}
DURATION=${DURATION:-20}
JVM_OPTS=${JVM_OPTS:-"-Xms1g -Xmx4g"}
JAVA=${JAVA:-java}
PEERS_DIR=${PEERS_DIR:-"$ROOT/../shared/peers"}
PEERS_WORK=${PEERS_WORK:-"${TMPDIR:-/tmp}/raft4j-peers"}
OUT_DIR=${OUT_DIR:-"$BENCH_DIR/results"}
SKIP_BUILD=${SKIP_BUILD:-0}
SKIP_BUILD_OURS=${SKIP_BUILD_OURS:-$SKIP_BUILD}
SKIP_BUILD_PEERS=${SKIP_BUILD_PEERS:-$SKIP_BUILD}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
PROBE_SECONDS=${PROBE_SECONDS:-2}
QUIET_WAIT=${QUIET_WAIT:-3}
DRY=${DRY:-0}
CLIENT_CONNECTIONS=${CLIENT_CONNECTIONS:-1}

OURS_JAR="$ROOT/raft-examples/target/raft-kv.jar"
PEERS_JAR="$PEERS_WORK/target/peers.jar"
[[ -d "$PEERS_DIR" ]] && PEERS_DIR="$(cd "$PEERS_DIR" && pwd)"

# -Xmx512m variant: the default options without their heap sizes (-Xms1g would exceed -Xmx512m)
SMALL_OPTS=""
for o in $JVM_OPTS; do
  case "$o" in -Xms*|-Xmx*|-XX:MaxHeapSize=*|-XX:InitialHeapSize=*) ;; *) SMALL_OPTS+="$o " ;; esac
done
SMALL_OPTS+="-Xmx512m"

STAMP=$(date +%Y%m%d-%H%M%S)
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/raft4j-compare.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
if [[ "$DRY" == "1" ]]; then
  RESULTS=/dev/null
  LOG="$SCRATCH/run.log"
else
  mkdir -p "$OUT_DIR"
  RESULTS="$OUT_DIR/bench-results-$STAMP.jsonl"
  LOG="$OUT_DIR/bench-results-$STAMP.log"
fi

log() { echo "[compare $(date +%H:%M:%S)] $*" >&2; }
# prints a command (quoted so that it can be pasted) under DRY=1, otherwise runs it
run_or_print() {
  if [[ "$DRY" == "1" ]]; then
    printf '+'; printf ' %q' "$@"; printf '\n'
    return 0
  fi
  "$@"
}

# run_in DIR CMD... : runs CMD in DIR with its output on stderr (or prints it under DRY=1)
run_in() {
  local dir=$1
  shift
  if [[ "$DRY" == "1" ]]; then
    printf '+ (cd %q &&' "$dir"; printf ' %q' "$@"; printf ')\n'
    return 0
  fi
  (cd "$dir" && "$@" >&2)
}

# ---- flat JSON helpers (the lines are flat apart from the "applied" array; no jq needed) -------
# jget LINE KEY -> the value of KEY (strings without their quotes), empty if absent
jget() {
  printf '%s\n' "$1" | sed -n -e "s/.*\"$2\": *\"\([^\"]*\)\".*/\1/p" -e "t" \
    -e "s/.*\"$2\": *\([^,}]*\).*/\1/p" | head -n 1
}
# is_num VALUE -> success if VALUE is a plain number
is_num() { [[ "$1" =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; }
# fmt_ops VALUE -> thousands separators, no decimals
fmt_ops() { awk -v v="$1" 'BEGIN{s=sprintf("%.0f", v); o=""; while (length(s) > 3) {o="," substr(s, length(s)-2) o; s=substr(s, 1, length(s)-3)} print s o}'; }
# fmt_ms VALUE -> at most 3 significant-ish decimals
fmt_ms() { if is_num "$1"; then awk -v v="$1" 'BEGIN{ if (v >= 100) printf "%.0f", v; else if (v >= 10) printf "%.1f", v; else printf "%.2f", v }'; else printf '—'; fi; }
calc() { awk "BEGIN{ printf \"%.6g\", $1 }"; }
# awk_true EXPR -> success if the awk expression is true
awk_true() { awk "BEGIN{ exit !($1) }"; }

# ---- host idle gate (Linux /proc/stat; skipped elsewhere) ----------------------------------------
host_busy() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", (b-a)/100}'
}
quiet_gate() {
  [[ -r /proc/stat && "$QUIET_WAIT" -gt 0 ]] || return 0
  local waited=0 busy
  busy=$(host_busy)
  while awk_true "$busy > 0.25" && ((waited < QUIET_WAIT)); do
    waited=$((waited + 1))
    busy=$(host_busy)
  done
  log "host busy before run: $busy cores (waited ${waited}s)"
}

# ---- builds ---------------------------------------------------------------------------------------
build() {
  if [[ "$SKIP_BUILD_OURS" != "1" ]]; then
    log "building ours: mvn -q -B -DskipTests install (in $ROOT)"
    run_in "$ROOT" mvn -q -B -DskipTests install
  fi
  if [[ "$DRY" != "1" && ! -f "$OURS_JAR" ]]; then
    log "missing $OURS_JAR (build it, or run without SKIP_BUILD)"; exit 1
  fi
  if [[ -f "$PEERS_JAR" ]]; then
    log "reusing $PEERS_JAR"
  elif [[ "$SKIP_BUILD_PEERS" == "1" ]]; then
    if [[ "$DRY" != "1" ]]; then
      log "missing $PEERS_JAR (SKIP_BUILD set; build it or unset SKIP_BUILD)"; exit 1
    fi
  else
    if [[ "$DRY" != "1" && ! -f "$PEERS_DIR/pom.xml" ]]; then
      log "no peers harness at $PEERS_DIR (set PEERS_DIR)"; exit 1
    fi
    log "copying $PEERS_DIR to $PEERS_WORK and building target/peers.jar there"
    run_or_print mkdir -p "$PEERS_WORK"
    run_or_print cp -R "$PEERS_DIR/." "$PEERS_WORK/"
    # the shared copy is read-only and cp keeps the modes: make the copy writable for target/
    run_or_print chmod -R u+w "$PEERS_WORK"
    run_in "$PEERS_WORK" mvn -q -B -DskipTests package
    if [[ "$DRY" != "1" && ! -f "$PEERS_JAR" ]]; then
      log "peers build produced no $PEERS_JAR"; exit 1
    fi
  fi
}

# ---- one run --------------------------------------------------------------------------------------
# bench TAG OPTS JAR_ARGS... ; TAG = "case|variant|role|run|path"; stores the JSON line (if any)
# in $SCRATCH/<case>.<variant>.<role>, appends it (tagged) or a "missing" record to $RESULTS
bench() {
  local tag=$1 opts=$2
  shift 2
  local c v role i path
  IFS='|' read -r c v role i path <<<"$tag"
  local -a cmd
  # shellcheck disable=SC2206  # JVM options are a whitespace-separated list on purpose
  cmd=(timeout -k 15 "$RUN_TIMEOUT" "$JAVA" $opts -jar "$@")
  if [[ "$DRY" == "1" ]]; then
    run_or_print "${cmd[@]}"
    return 0
  fi
  quiet_gate
  log "case $c $v run $i $role: ${cmd[*]}"
  echo "=== $(date +%H:%M:%S) case=$c variant=$v role=$role run=$i: ${cmd[*]}" >>"$LOG"
  local out rc=0
  out=$("${cmd[@]}" 2>>"$LOG") || rc=$?
  local line
  line=$(printf '%s\n' "$out" | grep '^{"system"' | tail -n 1 || true)
  local prefix="{\"case\": $c, \"variant\": \"$v\", \"role\": \"$role\", \"run\": $i, \"sitting\": \"$STAMP\", "
  local ops
  ops=$(jget "$line" ops_per_s)
  if [[ -n "$line" ]] && is_num "$ops"; then
    # the peers' line has no "path" key: add it
    [[ "$line" == *'"path":'* ]] || line="{\"path\": \"$path\", ${line#\{}"
    printf '%s\n' "$line" >>"$SCRATCH/$c.$v.$role"
    printf '%s%s\n' "$prefix" "${line#\{}" >>"$RESULTS"
    local repl
    repl=$(jget "$line" replicated)
    log "  -> exit $rc, $(fmt_ops "$ops") ops/s p50 $(jget "$line" p50_ms) p99 $(jget "$line" p99_ms) ms, replicated=$repl"
    [[ "$repl" == "true" ]] || log "  !! replicated=$repl in this run"
  else
    local err
    err=$(jget "$line" error)
    log "  -> FAILED (exit $rc${err:+, $err}); recorded as missing, see $LOG"
    printf '%s"missing": true, "exit": %d, "error": "%s"}\n' "$prefix" "$rc" "${err//[\"\\]/}" >>"$RESULTS"
  fi
}

# median FILE -> the whole JSON line of the median run by ops_per_s (lower median for an even
# count); empty if FILE is missing or empty
median() {
  [[ -s "$1" ]] || return 0
  local n
  n=$(wc -l <"$1")
  while IFS= read -r l; do
    printf '%s\t%s\n' "$(jget "$l" ops_per_s)" "$l"
  done <"$1" | sort -t $'\t' -k1,1g | sed -n "$(( (n + 1) / 2 ))p" | cut -f2-
}

# ---- the cases -------------------------------------------------------------------------------------
# case N -> "path clients size fsync peer-system target"
case_def() {
  case "$1" in
    1) echo "embedded 64 128 true jraft 4" ;;
    2) echo "embedded 1 128 true microraft-sqlite 2.5" ;;
    3) echo "embedded 64 4096 true jraft 3" ;;
    4) echo "client 64 128 true jraft 2" ;;
    5) echo "embedded 64 128 false microraft 1" ;;
    *) return 1 ;;
  esac
}
bench_args() { # path clients size fsync
  echo "--path $1 --clients $2 --size $3 --warmup $WARMUP --duration $DURATION --fsync $4"
}
ours_args() { # path clients size fsync: bench_args, and on the client path how many connections
  local extra=""
  [[ "$1" == "client" ]] && extra=" --connections $CLIENT_CONNECTIONS"
  echo "$(bench_args "$@")$extra"
}

# run_case N: ours (default heap) vs the case's peer, alternating
run_case() {
  local c=$1 p cl sz fs peer tgt i
  read -r p cl sz fs peer tgt <<<"$(case_def "$c")"
  local args ours
  args=$(bench_args "$p" "$cl" "$sz" "$fs")
  ours=$(ours_args "$p" "$cl" "$sz" "$fs")
  for ((i = 1; i <= RUNS; i++)); do
    # shellcheck disable=SC2086
    bench "$c|default|ours|$i|$p" "$JVM_OPTS" "$OURS_JAR" bench $ours
    # shellcheck disable=SC2086
    bench "$c|default|$peer|$i|$p" "$JVM_OPTS" "$PEERS_JAR" --system "$peer" $args
  done
}

# run_case6 N: ours with -Xmx512m, alternating with ours at the default heap. Always its own
# default-heap runs, beside the -Xmx512m ones: the disk of this machine drifts within a sitting by
# more than the 10 % this case measures, so runs made earlier (for case N) are no fair reference.
run_case6() {
  local c=$1 p cl sz fs peer tgt i
  read -r p cl sz fs peer tgt <<<"$(case_def "$c")"
  local args
  args=$(ours_args "$p" "$cl" "$sz" "$fs")
  for ((i = 1; i <= RUNS; i++)); do
    # shellcheck disable=SC2086
    bench "$c|heapref|ours|$i|$p" "$JVM_OPTS" "$OURS_JAR" bench $args
    # shellcheck disable=SC2086
    bench "$c|xmx512m|ours|$i|$p" "$SMALL_OPTS" "$OURS_JAR" bench $args
  done
}

# ---- probes ------------------------------------------------------------------------------------------
FSYNC_P50_US=""
TCP_P50_US=""
probes() {
  local -a cmd
  if [[ "$DRY" == "1" ]]; then
    # shellcheck disable=SC2086
    run_or_print timeout -k 15 "$RUN_TIMEOUT" "$JAVA" $JVM_OPTS -jar "$PEERS_JAR" --probe fsync --seconds "$PROBE_SECONDS"
    # shellcheck disable=SC2086
    run_or_print timeout -k 15 "$RUN_TIMEOUT" "$JAVA" $JVM_OPTS -jar "$PEERS_JAR" --probe tcp --seconds "$PROBE_SECONDS"
    return 0
  fi
  local kind out l
  for kind in fsync tcp; do
    # shellcheck disable=SC2206
    cmd=(timeout -k 15 "$RUN_TIMEOUT" "$JAVA" $JVM_OPTS -jar "$PEERS_JAR" --probe "$kind" --seconds "$PROBE_SECONDS")
    log "probe: ${cmd[*]}"
    echo "=== $(date +%H:%M:%S) probe $kind: ${cmd[*]}" >>"$LOG"
    out=$("${cmd[@]}" 2>>"$LOG") || log "  probe $kind exited non-zero (see $LOG)"
    while IFS= read -r l; do
      [[ "$l" == '{"probe"'* ]] || continue
      printf '{"case": 0, "variant": "probe", "sitting": "%s", %s\n' "$STAMP" "${l#\{}" >>"$RESULTS"
      # fsync: a growing file (like a log), 128 B records, one force per record
      if [[ "$(jget "$l" probe)" == fsync && "$(jget "$l" mode)" == append \
        && "$(jget "$l" record_bytes)" == 128 && "$(jget "$l" records_per_force)" == 1 ]]; then
        FSYNC_P50_US=$(jget "$l" force_p50_us)
      fi
      # tcp: strict ping-pong, 1 outstanding
      if [[ "$(jget "$l" probe)" == tcp_rtt && "$(jget "$l" outstanding)" == 1 ]]; then
        TCP_P50_US=$(jget "$l" p50_us)
      fi
    done <<<"$out"
  done
  log "probes: fsync p50 ${FSYNC_P50_US:-?} us, tcp round trip p50 ${TCP_P50_US:-?} us"
}

# ---- table -----------------------------------------------------------------------------------------
lat3() { # JSON line -> "p50 / p99 / p99.9"
  if [[ -z "$1" ]]; then printf '—'; return; fi
  printf '%s / %s / %s' "$(fmt_ms "$(jget "$1" p50_ms)")" "$(fmt_ms "$(jget "$1" p99_ms)")" "$(fmt_ms "$(jget "$1" p999_ms)")"
}
ops_cell() { # JSON line -> ops/s (marked when not replicated)
  if [[ -z "$1" ]]; then printf 'missing'; return; fi
  printf '%s' "$(fmt_ops "$(jget "$1" ops_per_s)")"
  [[ "$(jget "$1" replicated)" == "true" ]] || printf ' (replicated=false!)'
}
repl_list() { # FILE -> "true,true,false" (one flag per successful run)
  [[ -s "$1" ]] || { printf 'none'; return; }
  local l s=""
  while IFS= read -r l; do s+="${s:+,}$(jget "$l" replicated)"; done <"$1"
  printf '%s' "$s"
}

# row LABEL OURS_LINE PEER_NAME PEER_LINE TARGET_RATIO EXTRA_KIND
row() {
  local label=$1 o=$2 pname=$3 pl=$4 tgt=$5 extra=${6:-}
  local ratio="—" met="n/a" target=">= ${tgt}x"
  case "$extra" in
    p99half) target+=", p99 <= 1/2 peer" ;;
    p50probe)
      if is_num "$FSYNC_P50_US" && is_num "$TCP_P50_US"; then
        target+=", p50 <= $(calc "1.3 * ($FSYNC_P50_US + $TCP_P50_US) / 1000") ms"
      else
        target+=", p50 <= 1.3 x (fsync+rtt) [probes missing]"
      fi ;;
  esac
  if [[ -n "$o" && -n "$pl" ]]; then
    local oo po
    oo=$(jget "$o" ops_per_s); po=$(jget "$pl" ops_per_s)
    if awk_true "$po > 0"; then
      ratio=$(awk -v a="$oo" -v b="$po" 'BEGIN{printf "%.2fx", a/b}')
      local ok=1
      awk_true "$oo >= $tgt * $po" || ok=0
      case "$extra" in
        p99half) awk_true "$(jget "$o" p99_ms) <= 0.5 * $(jget "$pl" p99_ms)" || ok=0 ;;
        p50probe)
          if is_num "$FSYNC_P50_US" && is_num "$TCP_P50_US"; then
            awk_true "$(jget "$o" p50_ms) <= 1.3 * ($FSYNC_P50_US + $TCP_P50_US) / 1000" || ok=0
          else
            ok=2
          fi ;;
      esac
      if [[ "$(jget "$o" replicated)" != "true" || "$(jget "$pl" replicated)" != "true" ]]; then
        met="unverified (replicated=false)"
      elif ((ok == 1)); then met="yes"
      elif ((ok == 2)); then met="n/a (no probes)"
      else met="NO"
      fi
    fi
  fi
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$(ops_cell "$o")" "$pname" \
    "$(ops_cell "$pl")" "$ratio" "$target" "$(lat3 "$o")" "$(lat3 "$pl")" "$met"
}

# ---- main ------------------------------------------------------------------------------------------
declare -A WANT=()
for c in $CASES; do
  case "$c" in 1|2|3|4|5|6) WANT[$c]=1 ;; *) log "unknown case '$c' (cases are 1..6)"; exit 2 ;; esac
done
BASE=()
for c in 1 2 3 4 5; do [[ -n "${WANT[$c]:-}" ]] && BASE+=("$c"); done
SIX=()
if [[ -n "${WANT[6]:-}" ]]; then
  if ((${#BASE[@]})); then SIX=("${BASE[@]}"); else SIX=(1 2 3 4 5); fi
fi

start=$(date +%s)
log "cases: ${CASES}; runs=$RUNS warmup=${WARMUP}s duration=${DURATION}s; JVM_OPTS='$JVM_OPTS' (case 6: '$SMALL_OPTS'); client connections: $CLIENT_CONNECTIONS"
[[ "$DRY" == "1" ]] || log "results -> $RESULTS   (run logs -> $LOG)"
build
probes
for c in "${BASE[@]}"; do run_case "$c"; done
for c in "${SIX[@]}"; do
  run_case6 "$c"
done
log "done in $(($(date +%s) - start)) s"

JAVA_VERSION=$("$JAVA" -version 2>&1 | head -n 1 || true)
echo
echo "raft4j vs peers, $(date '+%Y-%m-%d %H:%M %Z'), $(nproc 2>/dev/null || echo '?') cores ($(uname -n)), $JAVA_VERSION;" \
  "runs=$RUNS (median by ops/s), warmup=${WARMUP}s, duration=${DURATION}s, JVM_OPTS='$JVM_OPTS'"
echo "probes: fsync (append, 128 B, 1 record/force) p50 ${FSYNC_P50_US:-?} µs; loopback TCP round trip (1 outstanding) p50 ${TCP_P50_US:-?} µs"
echo
echo "| case | ours ops/s | peer | peer ops/s | ratio | target | ours p50/p99/p99.9 ms | peer p50/p99/p99.9 ms | met |"
echo "|---|---|---|---|---|---|---|---|---|"
REPL_NOTES=()
for c in "${BASE[@]}"; do
  read -r p cl sz fs peer tgt <<<"$(case_def "$c")"
  extra=""
  [[ "$c" == 1 ]] && extra=p99half
  [[ "$c" == 2 ]] && extra=p50probe
  fsl=$([[ "$fs" == true ]] && echo fsync || echo "no fsync")
  row "$c: $p ${cl}×${sz} $fsl" "$(median "$SCRATCH/$c.default.ours")" "$peer $p" \
    "$(median "$SCRATCH/$c.default.$peer")" "$tgt" "$extra"
  REPL_NOTES+=("case $c: ours [$(repl_list "$SCRATCH/$c.default.ours")], $peer [$(repl_list "$SCRATCH/$c.default.$peer")]")
done
for c in "${SIX[@]}"; do
  read -r p cl sz fs peer tgt <<<"$(case_def "$c")"
  fsl=$([[ "$fs" == true ]] && echo fsync || echo "no fsync")
  row "6.$c: $p ${cl}×${sz} $fsl, ours -Xmx512m" "$(median "$SCRATCH/$c.xmx512m.ours")" "ours default heap" \
    "$(median "$SCRATCH/$c.heapref.ours")" 0.9
  REPL_NOTES+=("case 6.$c: ours -Xmx512m [$(repl_list "$SCRATCH/$c.xmx512m.ours")], default heap [$(repl_list "$SCRATCH/$c.heapref.ours")]")
done
echo
echo "replicated flags of every run: ${REPL_NOTES[*]/%/;}"
[[ "$DRY" == "1" ]] || echo "raw JSON lines: $RESULTS"
