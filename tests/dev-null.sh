#!/usr/bin/env bash
# Makes sure /dev/null is the null device before anything builds.
#
# On some machines (containers set up as root) /dev/null has been found to be
# a regular file. Everything that "discards" output then writes into it, and
# everything that reads it gets what others wrote: cargo hands /dev/null to
# rustc as the source of its target probe, which then fails with another
# build's error messages as its input. tests/run.sh and .ci/run call this
# first; as root it puts the device back (mknod, like the kernel's own: char
# 1,3, mode 666), otherwise it stops with what to do.
set -euo pipefail
if [ -c /dev/null ]; then
  exit 0
fi
echo "dev-null.sh: /dev/null is not the null device ($(stat -c %F /dev/null 2>/dev/null || echo missing))" >&2
if [ "$(id -u)" = 0 ]; then
  mknod -m 666 /dev/null.executor-tests c 1 3
  mv -f /dev/null.executor-tests /dev/null
  echo "dev-null.sh: put the null device back (mknod /dev/null c 1 3)" >&2
else
  echo "dev-null.sh: as root, run: rm -f /dev/null && mknod -m 666 /dev/null c 1 3" >&2
  exit 1
fi
