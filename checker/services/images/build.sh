#!/usr/bin/env bash
# Builds delab's offline stand-in images for Kafka, HDFS and Spark from the
# same Apache release artifacts the official images carry (Maven Central
# jars; Spark from the pyspark release on PyPI), on a Debian base made with
# debootstrap: no container registry, no `docker pull`.
#
#   build.sh [kafka] [hadoop] [spark]     (default: all three)
#
# Idempotent: every tag ends in a hash of its recipe (and of the base), and
# an image whose tag exists is not rebuilt. Prints, and writes to
# $DELAB_IMAGE_CACHE/images.env, the variables that point delab at them:
#   DELAB_KAFKA_IMAGE, DELAB_HDFS_IMAGE, DELAB_SPARK_IMAGE
# Needs root (debootstrap), a Docker engine, Maven and pip.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
home=$HOME
if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
  # Under sudo, record the images where the invoking user's delab looks.
  home=$(getent passwd "$SUDO_USER" | cut -d: -f6)
fi
cache=${DELAB_IMAGE_CACHE:-${XDG_CACHE_HOME:-$home/.cache}/delab/images}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$cache"
want=("$@")
[ ${#want[@]} -gt 0 ] || want=(kafka hadoop spark)

say() { printf '[images] %s\n' "$*" >&2; }
exists() { docker image inspect "$1" >/dev/null 2>&1; }
recipe_hash() { (cd "$here" && cat "$@" | sha256sum | cut -c1-12); }

docker info >/dev/null 2>&1 || { say "no Docker engine answers: start dockerd (or Docker Desktop) first"; exit 1; }

# shellcheck source=base/packages
. "$here/base/packages"
base="delab/standin-base:${suite}-$(recipe_hash base/packages)"
if exists "$base"; then
  say "base $base: present"
else
  say "base $base: debootstrap $suite ($packages)"
  root=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || { say "debootstrap failed; see $cache/debootstrap.log"; exit 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' - "$base" >/dev/null
  rm -rf "$root"
  trap - EXIT
fi

# build NAME VERSION: builds delab/NAME-standin:VERSION-<hash> from $here/NAME,
# after prepare_NAME has put the artifacts into the build context.
build() {
  local name=$1 version=$2 tag ctx
  tag="delab/$name-standin:$version-$(cd "$here" && { echo "$base"; cat "$name"/*; } | sha256sum | cut -c1-12)"
  if exists "$tag"; then
    say "$name $tag: present"
  else
    say "$name $tag: building"
    ctx=$(mktemp -d "$cache/ctx-$name.XXXXXX")
    cp -r "$here/$name"/. "$ctx"/
    "prepare_$name" "$ctx" >&2
    DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$base" -t "$tag" "$ctx" >/dev/null \
      || { rm -rf "$ctx"; say "docker build of $name failed"; exit 1; }
    rm -rf "$ctx"
  fi
  echo "$tag"
}

mvn_copy() { mvn -q -B -Dstyle.color=never -f "$1/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$2"; }

prepare_kafka() { mvn_copy "$1" "$1/libs"; }

prepare_hadoop() {
  mvn_copy "$1" "$1/lib"
  # The NameNode UI (webapps/) is not in the main hdfs jar; the release's tests jar carries it.
  mvn -q -B -Dstyle.color=never -f "$1/pom.xml" dependency:copy -Dartifact="org.apache.hadoop:hadoop-hdfs:3.4.3:jar:tests" -DoutputDirectory="$1/extra"
  (cd "$1" && unzip -q extra/hadoop-hdfs-3.4.3-tests.jar 'webapps/*' && rm -rf extra)
}

prepare_spark() {
  local sdist="$cache/pip/pyspark-4.0.1.tar.gz"
  [ -f "$sdist" ] || pip download -q --no-deps --no-binary :all: -d "$cache/pip" pyspark==4.0.1
  mkdir -p "$1/spark"
  tar -xzf "$sdist" -C "$1/spark" --strip-components=2 pyspark-4.0.1/deps/jars pyspark-4.0.1/deps/bin pyspark-4.0.1/deps/sbin
  rm -f "$1/spark/bin/"*.cmd
}

env_file="$cache/images.env"
touch "$env_file"
for svc in "${want[@]}"; do
  case $svc in
    kafka) var=DELAB_KAFKA_IMAGE; tag=$(build kafka 4.2.0) ;;
    hadoop | hdfs) var=DELAB_HDFS_IMAGE; tag=$(build hadoop 3.4.3) ;;
    spark) var=DELAB_SPARK_IMAGE; tag=$(build spark 4.0.1) ;;
    *) say "unknown image '$svc' (kafka, hadoop, spark)"; exit 2 ;;
  esac
  grep -v "^export $var=" "$env_file" > "$env_file.tmp" || true
  echo "export $var=$tag" >> "$env_file.tmp"
  mv "$env_file.tmp" "$env_file"
done
if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
  chown -R "$SUDO_USER" "$(dirname "$env_file")" 2>/dev/null || true
fi
cat "$env_file"
