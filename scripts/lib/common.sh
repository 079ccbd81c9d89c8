# Shared by scripts/test and scripts/demo: Debian packages and the build.
# shellcheck shell=bash

# Everything the build, the tests and the demo need on Debian 12.
PAM_OTP_PACKAGES=(
  build-essential cmake ninja-build pkg-config clang
  libpam0g-dev libcurl4-openssl-dev libjsoncpp-dev libtomlplusplus-dev libssl-dev
  libboost-test-dev libpam-wrapper libpamtest0-dev libnss-wrapper libcpp-httplib-dev
  pamtester openssl curl ca-certificates
  openssh-server openssh-client sudo python3 valgrind
  scdoc mandoc man-db
  debhelper lintian rpm libpam-duo
)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs the packages that are missing (as root), or says which are.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
  fi
  say "Installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The tests run an sshd of their own: keep the package from starting the
  # system's (a policy-rc.d of ours, only if there is none already).
  local policy=/usr/sbin/policy-rc.d ours=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && ours=1
  fi
  local status=0
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } || status=$?
  [ $ours -eq 1 ] && rm -f "$policy"
  [ $status -eq 0 ] || die "apt-get failed (status $status)"
}

# Configures and builds one CMake preset (default: "default").
build_preset() {
  local preset=${1:-default}
  shift || true
  say "Building ($preset)"
  cmake --preset "$preset" "$@" >/dev/null
  cmake --build --preset "$preset"
}
