#!/usr/bin/env bash
# Builds raft-kv.jar and runs a 3-node key-value cluster on loopback, in the foreground:
#   Raft on 127.0.0.1:7001-7003, Redis protocol on 127.0.0.1:6379-6381, data in data/n1..n3
# (under the repository root; data/ is git-ignored). Ctrl-C stops all three nodes.
# A node restarted on its data directory comes back with its data: run the script again.
#
#   raft-examples/run-cluster.sh            # build, then start
#   SKIP_BUILD=1 raft-examples/run-cluster.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
jar="raft-examples/target/raft-kv.jar"

if [[ "${SKIP_BUILD:-0}" != "1" || ! -f "$jar" ]]; then
  echo "building $jar (mvn -q -DskipTests package) ..."
  mvn -q -DskipTests -pl raft-examples -am package
fi

peers="n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003"
pids=()

stop_all() {
  trap - INT TERM EXIT
  if ((${#pids[@]})); then
    echo
    echo "stopping ${pids[*]} ..."
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
    echo "stopped; the data stays in data/n1..n3 (delete all of data/ to start afresh, never one node's directory alone: see docs/membership.md)"
  fi
}
trap stop_all INT TERM EXIT

mkdir -p data
for i in 1 2 3; do
  java -Xmx512m -XX:+ExitOnOutOfMemoryError -jar "$jar" --id "n$i" \
    --raft-address "127.0.0.1:700$i" --client-address "127.0.0.1:$((6378 + i))" \
    --peers "$peers" --data-dir "data/n$i" \
    > >(trap '' INT; exec sed -u "s/^/[n$i] /") 2>&1 &
  pids+=("$!")
done

cat <<EOF

3 nodes starting (pids ${pids[*]}); logs below, prefixed [n1] [n2] [n3].
Connect with redis-cli to any node, e.g.:
  redis-cli -p 6379 SET greeting hello
  redis-cli -p 6380 GET greeting
  redis-cli -p 6381 INFO raft        # role, term, leader, commit/applied index, members
  redis-benchmark -p 6379 -t set,get -n 100000 -c 50 -P 16 -q
Kill the leader (see INFO raft) with kill -9 and watch another node take over.
Ctrl-C stops all three.

EOF
wait "${pids[@]}"
