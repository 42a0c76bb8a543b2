#!/usr/bin/env bash
# One-time set-up on a fresh Debian/Ubuntu machine: the system tools the tests use, then the npm packages
# and the build. Runs as root or through sudo for apt-get; everything else as the current user.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  # sox + its format plug-ins make and measure test signals (FLAC, MP3, Ogg); espeak-ng speaks the demo.
  $SUDO apt-get update -qq
  # Live audio: PulseAudio (null sinks are the test devices; the tests start their own private server),
  # pactl/pacat/parec, ALSA's pulse plugin (how PortAudio reaches PulseAudio), and what naudiodon's
  # node-gyp build of PortAudio needs (a C++ toolchain, python3, the ALSA headers). Chromium: the UI tests
  # drive Debian's build through playwright-core (no browser download).
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends sox libsox-fmt-all espeak-ng \
    pulseaudio pulseaudio-utils libasound2-plugins libasound2-dev build-essential python3 chromium >/dev/null
else
  echo "setup: no apt-get here; install sox (with MP3/FLAC/Ogg support), espeak-ng, and for live audio PulseAudio with pactl and ALSA's pulse plugin (or PipeWire-pulse), plus a C++ toolchain for naudiodon" >&2
fi

# onnxruntime-node bundles its CPU build; its postinstall would only fetch CUDA files.
export ONNXRUNTIME_NODE_INSTALL=skip
# Electron's postinstall downloads its binary; the engine and tests do not need it.
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
# npm ci also builds: the package's prepare script runs `npm run build`.
npm ci --no-audit --no-fund
