#!/usr/bin/env bash
# Install the system programs unet-explain needs, only when they are missing.
#   scripts/system-deps.sh graphviz            -> Graphviz's `dot` (diagrams)
#   scripts/system-deps.sh graphviz chromium   -> plus headless Chromium (browser test)
# Uses apt-get as root, or through passwordless sudo; otherwise says what to run.
set -euo pipefail

missing=()
for want in "$@"; do
  case "$want" in
    graphviz) command -v dot >/dev/null 2>&1 || missing+=(graphviz) ;;
    chromium) [ -x /usr/bin/chromium ] || missing+=(chromium fonts-dejavu-core) ;;
    *) echo "system-deps: unknown dependency '$want' (known: graphviz, chromium)" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  run=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  run=(sudo -n)
else
  echo "system-deps: missing ${missing[*]}; install with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing ${missing[*]} and no apt-get here; install them with your package manager" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]} with apt-get"
"${run[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${run[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
