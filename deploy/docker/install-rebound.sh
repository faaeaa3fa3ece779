#!/bin/sh
# Install Rebound with its pinned dependencies into a fresh virtualenv: the steps the image
# runs (deploy/docker/Dockerfile, build stage), which CI runs too, so that what the image
# does is what is tested. The per-event modules are compiled (a C compiler and Python's
# headers must be there); REBOUND_COMPILE=0 installs plain Python.
#
#   deploy/docker/install-rebound.sh SOURCE_DIR VIRTUALENV_DIR
set -eu

source_dir=$1
venv=$2

python3 -m venv "$venv"
# The constraints pin every package, the build's own (setuptools, mypy) included.
PIP_CONSTRAINT="$source_dir/constraints.txt" "$venv/bin/pip" install \
    --no-cache-dir --disable-pip-version-check --quiet "$source_dir"
# The installed package runs: its schemas load and the shipped scenarios validate.
"$venv/bin/rebound" validate "$source_dir/scenarios"
