#!/usr/bin/env bash
# Run HERE (the development machine), before a device session: packs what bench/device/sovits-diffusion.sh needs
# on a GPU machine that has neither Node, nor the npm registry, nor this checkout's node_modules (516 MiB, over
# the device tool's 64 MiB working-tree limit) into .device/ (git-ignored, about 40 MiB compressed):
#   node.xz        this machine's Node binary (x86-64; it needs only glibc and libstdc++)
#   modules.tar.xz the production dependencies, onnxruntime-node's Linux x64 binaries only (WebGPU's Dawn is
#                  inside libonnxruntime), no TypeScript or type packages
#   dist.tar.xz    the compiled benches and models (npx tsc -p .)
#   *.deb          libvulkan1: Dawn loads the Vulkan loader, which the GPU machine's image may lack
# Then, from the session: device run with carry [".device"] and command `bash bench/device/sovits-diffusion.sh`.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .device && mkdir -p .device
npx tsc -p .
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > .device/node.xz
# Production dependencies and theirs, as npm resolves them here; not what only builds or type-checks.
mapfile -t mods < <(npm ls --omit=dev --all --parseable 2>/dev/null | sed "s|^$PWD/||" | grep '^node_modules/' | grep -v -e '^node_modules/typescript' -e '^node_modules/@types/' | sort -u)
tar -C . -cf - --dereference \
  --exclude='node_modules/onnxruntime-node/bin/napi-v*/darwin' --exclude='node_modules/onnxruntime-node/bin/napi-v*/win32' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v*/linux/arm64' "${mods[@]}" | xz -T0 -6 > .device/modules.tar.xz
tar -C . -cf - dist | xz -T0 -6 > .device/dist.tar.xz
(cd .device && apt-get download libvulkan1 >/dev/null)
du -sh .device .device/*
