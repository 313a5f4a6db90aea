#!/usr/bin/env bash
# Stand-in for /opt/entrypoint.sh of the official apache/spark image, which
# passes commands it does not know (anything but driver/executor) through.
set -e
exec "$@"
