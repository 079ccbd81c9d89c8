# Shared by scripts/test and scripts/demo: Debian packages and the build.
# shellcheck shell=bash

# What the demo needs on Debian 12: the compilers, the libraries of the
# module, pam-otp and the mock provider, and pam_wrapper, nss_wrapper and
# pamtester to log in without touching /etc.
PAM_OTP_DEMO_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libpam0g-dev libcurl4-openssl-dev libjsoncpp-dev libtomlplusplus-dev libssl-dev libsqlite3-dev libpq-dev
  libldap-dev libphonenumber-dev
  libcpp-httplib-dev libpam-wrapper libnss-wrapper pamtester openssl curl ca-certificates
)

# Everything the build, the tests and the demo need on Debian 12.
PAM_OTP_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  # clang, and its sanitizer and libFuzzer runtimes (a Recommends of clang-14,
  # which --no-install-recommends leaves out): the asan and fuzz presets.
  clang libclang-rt-14-dev
  libpam0g-dev libcurl4-openssl-dev libjsoncpp-dev libtomlplusplus-dev libssl-dev libsqlite3-dev
  libboost-test-dev libpam-wrapper libpamtest0-dev libnss-wrapper libcpp-httplib-dev
  pamtester openssl curl ca-certificates
  openssh-server openssh-client sudo python3 valgrind
  scdoc mandoc man-db
  debhelper lintian rpm libpam-duo
  # systemd-analyze and systemd-socket-activate: the state service's units.
  systemd
  # The shared state store (PostgreSQL): libpq for the store plugin, and a
  # server (and pgbouncer) that the tests and the benchmark start themselves.
  libpq-dev postgresql-15 pgbouncer
  # ip: the fleet test's network namespaces and veth pairs.
  iproute2
  # Destinations from the directory (issue 26): libldap and libphonenumber
  # for the directory plugin, and a slapd that the tests start themselves.
  libldap-dev libphonenumber-dev slapd ldap-utils
)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Commands the tests need, with the Debian package that has them, when the
# command may come from elsewhere (Node.js from NodeSource provides npm
# without Debian's npm package, and conflicts with it).
PAM_OTP_COMMANDS=(node:nodejs npm:npm)

# The packages of the PAM_OTP_COMMANDS whose command is not on PATH.
missing_commands() {
  local c
  for c in "${PAM_OTP_COMMANDS[@]}"; do
    command -v "${c%%:*}" >/dev/null || printf '%s\n' "${c#*:}"
  done
}

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
  say "Installing ${#missing[@]} Debian packages and what they need: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The tests run an sshd of their own: keep the package from starting the
  # system's (a policy-rc.d of ours, only if there is none already).
  local policy=/usr/sbin/policy-rc.d ours=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && ours=1
  fi
  local log status=0
  log=$(mktemp /tmp/pam_otp_apt.XXXXXX)
  { apt-get update -qq >"$log" 2>&1 && apt_install_with_progress "$log" "${missing[@]}"; } || status=$?
  [ $ours -eq 1 ] && rm -f "$policy"
  if [ $status -ne 0 ]; then
    tail -n 30 "$log" >&2
    die "apt-get failed (status $status); its whole output is in $log"
  fi
  rm -f "$log"
}

# apt-get install, its output to a log, its progress (APT::Status-Fd) on the
# terminal: what it downloads, then every 10 % of the installation.
apt_install_with_progress() {
  local log=$1
  shift
  local plan
  plan=$(apt-get install -s -y --no-install-recommends "$@" 2>>"$log" | grep -c '^Inst ') || true
  local size
  size=$(apt-get install --print-uris -qq -y --no-install-recommends "$@" 2>>"$log" |
         awk '{ s += $3 } END { printf "%.0f", s / 1048576 }')
  printf '    %s packages to install, %s MB to download\n' "${plan:-?}" "${size:-?}" >&2
  # fd 3 carries apt's status lines; apt's own output goes to the log.
  apt-get install -y -q --no-install-recommends -o APT::Status-Fd=3 "$@" 3>&1 >>"$log" 2>&1 |
    awk -F: '
      function now() { srand(); return srand() }
      BEGIN { start = now() }
      $1 == "dlstatus" || $1 == "pmstatus" {
        phase = ($1 == "dlstatus") ? "downloading" : "installing"
        pct = -1
        for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+([.][0-9]+)?$/) { pct = $i; break }
        if (pct < 0) next
        step = int(pct / 10)
        if (phase != last_phase || step > last_step) {
          printf "    %-11s %3d %%  (%d s)\n", phase, pct, now() - start > "/dev/stderr"
          fflush("/dev/stderr")
          last_phase = phase; last_step = step
        }
      }'
  return "${PIPESTATUS[0]}"
}

# Configures and builds one CMake preset (default: "default"), showing the
# build's progress ([n/N] per file).
build_preset() {
  local preset=${1:-default}
  shift || true
  say "Configuring and building ($preset)"
  cmake --preset "$preset" "$@" >/dev/null
  cmake --build --preset "$preset"
}
