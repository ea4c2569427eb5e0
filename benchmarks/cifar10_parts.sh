#!/usr/bin/env bash
# CIFAR-10 (lossless npz, 140 MB) to a device machine whose working tree may carry 64 MiB a call.
#
# Here (once):  bash benchmarks/cifar10_parts.sh split [../shared/data/cifar10-lossless] [.carry/c10]
#   tar of the folder cut into 36 MiB parts .carry/c10/part-00 … part-03 (.carry/ is git-ignored);
#   with the ~20 MB tree each call stays under 64 MiB.
# There, one call per part, back to back (the machine stays warm 30 s), carry ".carry/c10/part-0N":
#   bash benchmarks/cifar10_parts.sh stash            # moves the carried part to /tmp/c10 (outside the repo)
# There, after the last part:
#   bash benchmarks/cifar10_parts.sh join             # /tmp/c10/cifar10-lossless/{train,test}.npz, sha256 checked
# Then: --data-root /tmp/c10 (benchmarks/cifar10_queue.py).
set -euo pipefail
cmd=${1:?usage: cifar10_parts.sh split|stash|join}
dest=${C10_DIR:-/tmp/c10}
case "$cmd" in
split)
  src=${2:-../shared/data/cifar10-lossless}
  parts=${3:-.carry/c10}
  mkdir -p "$parts"
  rm -f "$parts"/part-*
  tar -cf - -C "$(dirname "$src")" "$(basename "$src")" | split -b 36M -d -a 2 - "$parts/part-"
  ls -l "$parts"
  ;;
stash)
  mkdir -p "$dest"
  mv -v .carry/c10/part-* "$dest"/
  ls -l "$dest"
  ;;
join)
  cat "$dest"/part-* | tar -xf - -C "$dest"
  (cd "$dest/cifar10-lossless" && sha256sum -c SHA256SUMS)
  rm -f "$dest"/part-*
  ;;
*)
  echo "usage: cifar10_parts.sh split|stash|join" >&2
  exit 2
  ;;
esac
