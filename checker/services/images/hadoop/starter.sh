#!/usr/bin/env bash
# Stand-in for /opt/starter.sh of the official apache/hadoop image: every
# environment variable NAME.XML_key=value becomes a property of
# $HADOOP_CONF_DIR/name.xml; then the command runs.
set -e
conf=${HADOOP_CONF_DIR:-/opt/hadoop/etc/hadoop}
declare -A files
while IFS='=' read -r -d '' name value; do
  if [[ $name =~ ^([A-Za-z0-9-]+)\.[Xx][Mm][Ll]_(.+)$ ]]; then
    file=${BASH_REMATCH[1],,}.xml
    files[$file]+="  <property><name>${BASH_REMATCH[2]}</name><value>$value</value></property>"$'\n'
  fi
done < <(env -0)
for f in "${!files[@]}"; do
  printf '<?xml version="1.0"?>\n<configuration>\n%s</configuration>\n' "${files[$f]}" > "$conf/$f"
done
exec "$@"
