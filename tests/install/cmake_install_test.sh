#!/bin/sh
# cmake --install as an administrator runs it (into a DESTDIR here): the
# module in $(pkg-config --variable=libdir pam)/security, pam-otp in bin, the
# try-out provider in libexec/pam-otp, the HTTP plugin and the state helper
# beside the module; all hardened (BIND_NOW, RELRO; the helper PIE and
# executable by root alone is not needed: it holds nothing secret), the
# libraries exporting only their entry points, the
# module without libcurl; man pages, examples and presets under share/doc, the config and users
# files in /etc/security, mode 0600, never overwritten; and -DPAM_MODULE_DIR
# moves the module.
#   cmake_install_test.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 source=$2
work=$(mktemp -d /tmp/pam_otp_install.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

DESTDIR=$work/root cmake --install "$build" --prefix /usr > "$work/first.log"
root=$work/root
for f in "$(pkg-config --variable=libdir pam)/security/pam_otp.so" /usr/bin/pam-otp /usr/libexec/pam-otp/otp-mock \
         /usr/share/man/man8/pam_otp.8 /usr/share/man/man5/pam_otp.conf.5 /usr/share/man/man1/pam-otp.1 \
         /usr/share/doc/pam_otp/examples/pam_otp.conf /usr/share/doc/pam_otp/examples/pam_otp.users \
         /usr/share/doc/pam_otp/examples/pam.d/sshd /usr/share/doc/pam_otp/examples/sshd_config.d/pam_otp-publickey.conf \
         /etc/security/pam_otp.conf /etc/security/pam_otp.users; do
  [ -f "$root$f" ] || fail "$f was not installed"
done
security="$root$(pkg-config --variable=libdir pam)/security"
[ -f "$security/pam_otp/http.so" ] || fail "the HTTP plugin was not installed beside the module"
[ -f "$security/pam_otp/pgstore.so" ] || fail "the shared store's plugin was not installed beside the module"
[ -f "$security/pam_otp/directory.so" ] || fail "the directory's plugin was not installed beside the module"
[ -x "$security/pam_otp/state-helper" ] || fail "the state helper was not installed beside the module"
readelf -hW "$security/pam_otp/state-helper" | grep -q 'DYN' || fail "the state helper is not a PIE"
if readelf -d "$security/pam_otp/state-helper" | grep NEEDED | grep -q libcurl; then
  fail "the state helper needs libcurl"
fi
for lib in "$security/pam_otp.so" "$security/pam_otp/http.so" "$security/pam_otp/pgstore.so" \
           "$security/pam_otp/directory.so" "$security/pam_otp/state-helper"; do
  readelf -d "$lib" | grep -q 'FLAGS_1.*NOW' || fail "$lib is not linked with -z now"
  readelf -lW "$lib" | grep -q 'GNU_RELRO' || fail "$lib has no RELRO segment"
done
exported=$(nm -D --defined-only "$security/pam_otp.so" | awk '{print $3}' | sort | tr '\n' ' ')
[ "$exported" = "pam_sm_authenticate pam_sm_setcred " ] || fail "pam_otp.so exports: $exported"
exported=$(nm -D --defined-only "$security/pam_otp/http.so" | awk '{print $3}' | tr '\n' ' ')
case "$exported" in "pam_otp_http_transport_"*" ") ;; *) fail "http.so exports: $exported" ;; esac
[ "$(echo "$exported" | wc -w)" = 1 ] || fail "http.so exports more than its entry point: $exported"
exported=$(nm -D --defined-only "$security/pam_otp/pgstore.so" | awk '{print $3}' | tr '\n' ' ')
case "$exported" in "pam_otp_pg_store_"*" ") ;; *) fail "pgstore.so exports: $exported" ;; esac
[ "$(echo "$exported" | wc -w)" = 1 ] || fail "pgstore.so exports more than its entry point: $exported"
exported=$(nm -D --defined-only "$security/pam_otp/directory.so" | awk '{print $3}' | tr '\n' ' ')
case "$exported" in "pam_otp_directory_"*" ") ;; *) fail "directory.so exports: $exported" ;; esac
[ "$(echo "$exported" | wc -w)" = 1 ] || fail "directory.so exports more than its entry point: $exported"
if readelf -d "$security/pam_otp.so" | grep NEEDED | grep -q libcurl; then
  fail "pam_otp.so needs libcurl; only its plugin may"
fi
for lib in "$security/pam_otp.so" "$security/pam_otp/state-helper" "$security/pam_otp/http.so" "$security/pam_otp/directory.so"; do
  if readelf -d "$lib" | grep NEEDED | grep -q libpq; then
    fail "$lib needs libpq; only the shared store's plugin may"
  fi
done
for lib in "$security/pam_otp.so" "$security/pam_otp/state-helper" "$security/pam_otp/http.so" "$security/pam_otp/pgstore.so"; do
  if readelf -d "$lib" | grep NEEDED | grep -Eq 'libldap|libphonenumber|libicu'; then
    fail "$lib needs libldap, libphonenumber or ICU; only the directory's plugin may"
  fi
done

for p in "$source"/conf/providers/*.conf; do
  cmp -s "$p" "$root/usr/share/doc/pam_otp/examples/providers/$(basename "$p")" || fail "preset $(basename "$p") missing"
done
for f in pam_otp.conf pam_otp.users; do
  [ "$(stat -c %a "$root/etc/security/$f")" = 600 ] || fail "/etc/security/$f is not mode 0600"
done

# A second install keeps the administrator's files and says so.
echo '# edited by the administrator' >> "$root/etc/security/pam_otp.conf"
echo 'dave phone=+15550000000' > "$root/etc/security/pam_otp.users"
DESTDIR=$root cmake --install "$build" --prefix /usr > "$work/second.log"
tail -n 1 "$root/etc/security/pam_otp.conf" | grep -q 'edited by the administrator' || fail "pam_otp.conf overwritten"
grep -q '^dave ' "$root/etc/security/pam_otp.users" || fail "pam_otp.users overwritten"
grep -q 'Keeping: .*/etc/security/pam_otp.conf' "$work/second.log" || fail "no 'Keeping' message: $(cat "$work/second.log")"

# -DPAM_MODULE_DIR reaches the install rule (configured only; no second build).
cmake -S "$source" -B "$work/other" -G Ninja -DPAM_OTP_BUILD_TESTS=OFF -DPAM_MODULE_DIR=/opt/pam/security > /dev/null
grep -q '/opt/pam/security' "$work/other/src/cmake_install.cmake" || fail "PAM_MODULE_DIR ignored by the install rule"
echo "cmake --install: all checks passed"
