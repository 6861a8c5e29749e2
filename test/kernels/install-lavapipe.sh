#!/usr/bin/env bash
# Installs Mesa's lavapipe (software Vulkan) from Debian bookworm-backports, so onnxruntime's WebGPU
# execution provider finds an adapter on a machine without a GPU (Debian 12's own Mesa 22.3 is refused by
# Dawn; Mesa 25 from backports works). Idempotent; does nothing on systems other than Debian 12.
set -euo pipefail
installed() { dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null | grep -q "^install ok installed ${2:-}"; }
if installed libvulkan1 && installed mesa-vulkan-drivers '2[5-9]'; then exit 0; fi
. /etc/os-release 2>/dev/null || true
if [ "${ID:-}" != debian ] || [ "${VERSION_CODENAME:-}" != bookworm ]; then
  echo "install-lavapipe: not Debian 12 (bookworm); WebGPU tests will skip unless a Vulkan driver is present"; exit 0
fi
sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo 'deb http://deb.debian.org/debian bookworm-backports main' | $sudo tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
fi
apt_options=(-o DPkg::Lock::Timeout=600 -qq)
$sudo apt-get "${apt_options[@]}" update
DEBIAN_FRONTEND=noninteractive $sudo apt-get "${apt_options[@]}" install -y --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libvulkan1
