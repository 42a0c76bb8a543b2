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
  # drive Debian's build through playwright-core (no browser download). libvulkan1: the Vulkan loader that
  # onnxruntime-node's WebGPU provider (Dawn) opens to reach the GPU's driver; the tests also run WebGPU on
  # Chromium's software Vulkan (SwiftShader), which chromium brings.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends sox libsox-fmt-all espeak-ng \
    pulseaudio pulseaudio-utils libasound2-plugins libasound2-dev build-essential python3 chromium libvulkan1 >/dev/null
else
  echo "setup: no apt-get here; install sox (with MP3/FLAC/Ogg support), espeak-ng, and for live audio PulseAudio with pactl and ALSA's pulse plugin (or PipeWire-pulse), plus a C++ toolchain for naudiodon" >&2
fi

# onnxruntime-node bundles its CPU and WebGPU builds; its postinstall would only fetch CUDA files (from NuGet),
# which a GPU-less machine does not need. RESONA_CUDA=1 asks for them: onnxruntime-node's own CUDA 12 install
# (needs an NVIDIA driver, CUDA 12 and cuDNN 9 on the machine).
if [ "${RESONA_CUDA:-0}" = "1" ]; then
  export ONNXRUNTIME_NODE_INSTALL=cuda12
else
  export ONNXRUNTIME_NODE_INSTALL=skip
fi
# Electron's postinstall downloads its binary; the engine and tests do not need it.
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
# npm ci also builds: the package's prepare script runs `npm run build`.
npm ci --no-audit --no-fund
