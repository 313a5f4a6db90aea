#!/usr/bin/env bash
# delab's HDFS service: one NameNode and N DataNodes in this container.
# DataNode i listens on 9866+10i (transfer), 9867+10i (IPC), 9864+10i (HTTP).
# If any daemon exits, the container exits, so a dead service is noticed.
set -u
n=${1:-1}
mkdir -p /tmp/hdfs
if [ ! -d /tmp/hdfs/name/current ]; then
  hdfs namenode -format -force -nonInteractive || exit 1
fi
hdfs namenode &
for ((i = 0; i < n; i++)); do
  hdfs datanode \
    -D dfs.datanode.address=0.0.0.0:$((9866 + 10 * i)) \
    -D dfs.datanode.ipc.address=0.0.0.0:$((9867 + 10 * i)) \
    -D dfs.datanode.http.address=0.0.0.0:$((9864 + 10 * i)) \
    -D dfs.datanode.data.dir=file:///tmp/hdfs/data$i &
done
wait -n
echo "delab: an HDFS daemon exited; stopping the container" >&2
exit 1
