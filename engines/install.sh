#!/usr/bin/env bash
# Make sure a Stockfish binary is available: find it, or install Debian's package, or say how to.
set -euo pipefail

for candidate in "${CHESSTEACH_ENGINE:-}" stockfish /usr/games/stockfish /usr/local/bin/stockfish /opt/homebrew/bin/stockfish; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1; then
        echo "engine: $(command -v "$candidate")"
        exit 0
    fi
done

if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="none"; fi
    if [ "$SUDO" != "none" ]; then
        echo "engine: Stockfish is missing; installing Debian's package (apt-get install -y stockfish)"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq stockfish >/dev/null
        echo "engine: /usr/games/stockfish"
        exit 0
    fi
    echo "error: Stockfish is missing. Install it with: sudo apt-get install -y stockfish" >&2
elif command -v brew >/dev/null 2>&1; then
    echo "error: Stockfish is missing. Install it with: brew install stockfish" >&2
else
    echo "error: Stockfish is missing. Download it from https://stockfishchess.org/download/ and set CHESSTEACH_ENGINE=/path/to/stockfish" >&2
fi
exit 1
