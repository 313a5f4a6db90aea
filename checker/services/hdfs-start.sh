#!/usr/bin/env bash
# delab's HDFS service: one NameNode and N DataNodes in this container, under
# this script as their supervisor.
# DataNode i listens on 9866+10i (transfer), 9867+10i (IPC), 9864+10i (HTTP).
#
# A daemon that exits on its own ends the container, so a dead service is
# noticed (Stack.Health). The one exception is the checker's fault injection
# (StopNode and StartNode in hdfs.go): it writes $run/datanode<i>.stop before
# it kills DataNode i's JVM (pid in $run/datanode<i>.pid) with SIGKILL; the
# supervisor then leaves that DataNode down until $run/datanode<i>.start
# appears, and starts it again with the same ports and data directory.
# $run/supervisor says this container has the supervisor (a warm container an
# older delab started has not).
set -u
n=${1:-1}
run=/tmp/delab-hdfs
mkdir -p /tmp/hdfs "$run"
rm -f "$run"/*
if [ ! -d /tmp/hdfs/name/current ]; then
  hdfs namenode -format -force -nonInteractive || exit 1
fi

declare -A pid
start_namenode() {
  hdfs namenode &
  pid[namenode]=$!
  echo "${pid[namenode]}" >"$run/namenode.pid"
}
start_datanode() {
  local i=$1
  hdfs datanode \
    -D dfs.datanode.address=0.0.0.0:$((9866 + 10 * i)) \
    -D dfs.datanode.ipc.address=0.0.0.0:$((9867 + 10 * i)) \
    -D dfs.datanode.http.address=0.0.0.0:$((9864 + 10 * i)) \
    -D dfs.datanode.data.dir=file:///tmp/hdfs/data$i &
  pid[datanode$i]=$!
  echo "${pid[datanode$i]}" >"$run/datanode$i.pid"
}
# docker stop's SIGTERM goes to the daemons, which as children of PID 1
# would otherwise never see it.
stop_all() {
  kill -TERM "${pid[@]}" 2>/dev/null
  wait
  exit 0
}
trap stop_all TERM INT

start_namenode
for ((i = 0; i < n; i++)); do
  start_datanode "$i"
done
echo "$n" >"$run/supervisor"

while :; do
  sleep 0.2 &
  wait $!
  for name in "${!pid[@]}"; do
    p=${pid[$name]}
    if [ -z "$p" ] || kill -0 "$p" 2>/dev/null; then
      continue
    fi
    wait "$p"
    code=$?
    if [ -f "$run/$name.stop" ]; then
      echo "delab: $name killed by the checker; it stays down until the checker starts it again"
      pid[$name]=
      rm -f "$run/$name.pid"
      continue
    fi
    echo "delab: HDFS daemon $name exited on its own (code $code); stopping the container" >&2
    unset "pid[$name]"
    kill -TERM "${pid[@]}" 2>/dev/null
    exit 1
  done
  for ((i = 0; i < n; i++)); do
    # A request waits until the supervisor has seen the kill it follows.
    if [ -f "$run/datanode$i.start" ] && [ -z "${pid[datanode$i]}" ]; then
      rm -f "$run/datanode$i.start" "$run/datanode$i.stop"
      echo "delab: starting datanode$i again, as the checker asked"
      start_datanode "$i"
    fi
  done
done
