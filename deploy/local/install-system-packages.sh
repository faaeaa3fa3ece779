#!/usr/bin/env bash
# Installs the system programs the local stack needs, from Debian's packages:
#   redis-server (Redis for tests and `make run`), Java 17+ and Maven (the Kafka broker's jars),
#   promtool (Prometheus' package: `make deploy-check` checks the chart's alert rules), and
#   headless Chromium (the test of `rebound report` takes a screenshot of the HTML report).
# Does nothing for a program already installed; as non-root without sudo, says what to install.
set -euo pipefail

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v promtool >/dev/null || missing+=(prometheus)
command -v chromium >/dev/null || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "rebound: please install: ${missing[*]} (e.g. apt-get install ${missing[*]})" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "rebound: please install ${missing[*]} with your system's package manager" >&2
  exit 1
fi
echo "rebound: installing ${missing[*]} from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
