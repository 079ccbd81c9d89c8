"""The Debian package, as an administrator gets it: scripts/build-deb builds
libpam-otp with dpkg-buildpackage and checks it with lintian; the package is
installed on this machine, its pam-auth-update profile tried (on a copy of
the PAM configuration, so the real /etc/pam.d never changes), the try-out
path followed as README.Debian tells (`pam-otp try-out`, `pam-otp check`,
`pam-otp test alice` on a terminal), `pam-otp enable` driven through a pty
(every refusal, then success after a passing test, and `pam-otp disable`
restoring common-auth), a user logged in through the installed module
(pam_wrapper service, pam_matrix password, the mock provider), and the
package purged again, leaving nothing behind.

Users exist for the pam-otp commands only, through nss_wrapper.

Needs root (CI is root); skipped with a reason otherwise. Refuses to run if
libpam-otp is already installed or /etc/security/pam_otp.conf exists: an
administrator's files are never touched.
"""

import hashlib
import os
import re
import signal
import shutil
import subprocess
import sys
import tempfile
import termios
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import e2e  # noqa: E402  (the mock provider and paths)

PACKAGE = "libpam-otp"
CONFIG = "/etc/security/pam_otp.conf"
USERS = "/etc/security/pam_otp.users"
PROFILE = "/usr/share/pam-configs/otp"
MODULE = f"/lib/{e2e.MULTIARCH}/security/pam_otp.so"
HTTP_PLUGIN = f"/lib/{e2e.MULTIARCH}/security/pam_otp/http.so"  # loaded by the module to send
PG_PLUGIN = f"/lib/{e2e.MULTIARCH}/security/pam_otp/pgstore.so"  # loaded by the module for a shared store
DIRECTORY_PLUGIN = f"/lib/{e2e.MULTIARCH}/security/pam_otp/directory.so"  # loaded by the module to ask [directory]
STATE_HELPER = f"/lib/{e2e.MULTIARCH}/security/pam_otp/state-helper"  # run for su and sudo
TRY_OUT_DIR = "/var/lib/pam_otp/try-out"
UNITS = ("/lib/systemd/system/pam-otp-state.socket", "/lib/systemd/system/pam-otp-state.service")
ENABLED_SOCKET = "/etc/systemd/system/sockets.target.wants/pam-otp-state.socket"
STATE_SOCKET_DIR = "/run/pam_otp"  # ListenStream= of the socket unit
TRY_OUT_SERVER = "/usr/libexec/pam-otp/otp-mock"
# alice's line in the shipped users file (conf/pam_otp.users).
ALICE_PHONE = "+15551234567"


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, **kwargs)


def installed(package):
    status = run(["dpkg-query", "-W", "-f=${db:Status-Status}", package]).stdout
    return status not in ("", "not-installed")


def snapshot(paths):
    """Every file under the paths, with a digest of its content and its mode."""
    result = {}
    for root in paths:
        for directory, _, files in os.walk(root):
            for name in files:
                path = os.path.join(directory, name)
                with open(path, "rb") as f:
                    result[path] = (hashlib.sha256(f.read()).hexdigest(), os.stat(path).st_mode)
    return result


def copy_pam_configuration(root):
    """A copy of the machine's PAM configuration under root, for
    `pam-auth-update --root root`, and the environment that keeps what
    pam-auth-update stores in a debconf database of the copy's own:
    DEBCONF_DB_REPLACE makes the machine's databases read-only for the process
    (DEBCONF_DB_OVERRIDE would still write to the machine's)."""
    for d in ("/etc/pam.d", "/var/lib/pam", "/usr/share/pam-configs"):
        shutil.copytree(d, root + d, symlinks=True, dirs_exist_ok=True)
    return {"DEBIAN_FRONTEND": "noninteractive", "DEBCONF_DB_REPLACE": "File{%s}" % os.path.join(root, "debconf.dat")}


def read(path):
    with open(path) as f:
        return f.read()


def read_until_any(session, texts, timeout):
    """Reads the session's output until one of texts appears; whether one did."""
    end = time.monotonic() + timeout
    while not any(t.encode() in session.output for t in texts) and time.monotonic() < end:
        session.read_until("\0", timeout=0.2)
    return any(t.encode() in session.output for t in texts)


def enable_profile_in_copy(root, profile):
    """Runs `pam-auth-update --enable PROFILE` on a copy of the machine's PAM
    configuration under root; returns the copy's common-auth."""
    env = {**os.environ, **copy_pam_configuration(root)}
    done = run(["pam-auth-update", "--root", root, "--enable", profile], env=env)
    if done.returncode != 0:
        raise AssertionError("pam-auth-update --root failed: " + done.stdout + done.stderr)
    return read(root + "/etc/pam.d/common-auth")


class TryOut:
    """`pam-otp try-out` in the background, as in the administrator's first
    terminal; its output (the codes it "sends") collected line by line."""

    def __init__(self):
        self.lines = []
        self.proc = subprocess.Popen(["/usr/bin/pam-otp", "try-out"], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.reader = threading.Thread(target=self._collect, daemon=True)
        self.reader.start()
        if not self.wait_for(lambda line: "listening on https://127.0.0.1:8443" in line):
            self.proc.kill()
            raise AssertionError("pam-otp try-out did not start (is 127.0.0.1:8443 taken?):\n" + self.text())

    def _collect(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def text(self):
        return "".join(self.lines)

    def wait_for(self, predicate, start=0, timeout=30):
        """The first line from number `start` on that satisfies predicate."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            exited = self.proc.poll() is not None
            found = next((line for line in self.lines[start:] if predicate(line)), None)
            if found or exited:
                return found
            time.sleep(0.05)
        return None

    def code_for(self, user, start):
        """The code in the first "[otp-mock] ... for USER: code N" line from
        line number `start` on."""
        pattern = re.compile(r"\[otp-mock\] .* for %s: code ([0-9]+)" % re.escape(user))
        line = self.wait_for(lambda l: pattern.search(l) is not None, start)
        return pattern.search(line).group(1) if line else None

    def stop(self):
        """Ctrl-C, as the administrator stops it; its exit status."""
        self.proc.send_signal(signal.SIGINT)
        try:
            status = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            status = self.proc.wait()
        self.reader.join(timeout=5)
        self.proc.stdout.close()
        return status


# What the package may change on the machine, and what it must leave as found.
WATCHED = ["/etc/pam.d", "/etc/security", "/usr/share/pam-configs", "/var/lib/pam"]


class DebianPackage(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("the package test needs root to install and purge the package "
                                    "(CI runs it as root)")
        if installed(PACKAGE) or os.path.exists(CONFIG):
            raise AssertionError(f"{PACKAGE} is installed or {CONFIG} exists: not touching them")
        cls.work = tempfile.mkdtemp(prefix="pam_otp_deb.")
        os.chmod(cls.work, 0o755)
        build = run([os.path.join(e2e.SOURCE, "scripts", "build-deb"), cls.work])
        if build.returncode != 0:
            raise AssertionError("scripts/build-deb failed (lintian included):\n" + build.stdout + build.stderr)
        cls.lintian_output = build.stdout + build.stderr
        [cls.deb] = [os.path.join(cls.work, f) for f in os.listdir(cls.work)
                     if f.startswith(PACKAGE + "_") and f.endswith(".deb")]
        cls.before = snapshot(WATCHED)

    @classmethod
    def tearDownClass(cls):
        if installed(PACKAGE):
            run(["dpkg", "--purge", PACKAGE])
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_install_use_and_purge(self):
        self.assertFalse(os.path.exists(TRY_OUT_DIR), TRY_OUT_DIR + " exists before the package is installed")
        install = run(["dpkg", "-i", self.deb])
        self.assertEqual(install.returncode, 0, install.stdout + install.stderr)
        files = [line for line in run(["dpkg", "-L", PACKAGE]).stdout.splitlines() if os.path.isfile(line)]
        state_dir = os.stat(os.path.dirname(TRY_OUT_DIR))
        self.assertEqual((oct(state_dir.st_mode & 0o777), state_dir.st_uid), ("0o700", 0), "the state directory")
        self.assertGreater(len(files), 20, files)
        try:
            self.check_installed_files()
            self.check_profile_is_off_and_placed_after_the_password()
            self.write_users()
            self.check_try_out_path()
            mock = e2e.Mock(self.work)
            try:
                self.check_installed_config(mock)
                self.check_login_through_installed_module(mock)
                self.check_enable_and_disable(mock)
            finally:
                mock.stop()
        finally:
            purge = run(["dpkg", "--purge", PACKAGE])
        self.assertEqual(purge.returncode, 0, purge.stdout + purge.stderr)
        self.assertEqual([f for f in files if os.path.lexists(f)], [], "files left after purge")
        self.assertEqual(snapshot(WATCHED), self.before, "purge did not restore " + ", ".join(WATCHED))
        self.assertFalse(os.path.exists(os.path.dirname(TRY_OUT_DIR)), "purge left " + TRY_OUT_DIR)
        self.assertFalse(os.path.lexists(ENABLED_SOCKET), "purge left the socket enabled")

    # ---- the try-out path, as README.Debian tells it ----------------------

    def write_users(self):
        """alice (in the shipped users file) and dave (only under its "*"
        line, e-mail) exist for the pam-otp commands, through nss_wrapper;
        both have a login shell, so enable counts them."""
        self.passwd = os.path.join(self.work, "nss-passwd")
        with open(self.passwd, "w") as f:
            f.write("alice:x:4301:4301:Alice:/nonexistent:/bin/bash\n"
                    "dave:x:4302:4302:Dave:/nonexistent:/bin/bash\n"
                    "sshd:x:4303:65534::/run/sshd:/usr/sbin/nologin\n")  # sshd -T wants it
        self.group = os.path.join(self.work, "nss-group")
        with open(self.group, "w") as f:
            f.write("alice:x:4301:\ndave:x:4302:\n")

    def nss_env(self, **extra):
        env = {k: v for k, v in os.environ.items() if k != "SUDO_USER"}
        env.update({"LD_PRELOAD": f"/usr/lib/{e2e.MULTIARCH}/libnss_wrapper.so",
                    "NSS_WRAPPER_PASSWD": self.passwd, "NSS_WRAPPER_GROUP": self.group})
        env.update(extra)
        return env

    def pam_otp(self, *args):
        return run(["/usr/bin/pam-otp", *args], env=self.nss_env())

    def check_try_out_path(self):
        # Before the try-out provider has run, check says what to do.
        check = self.pam_otp("check")
        self.assertEqual(check.returncode, 1, check.stdout + check.stderr)
        self.assertIn("pam-otp try-out", check.stdout)
        self.assertTrue(os.access(TRY_OUT_SERVER, os.X_OK), TRY_OUT_SERVER)
        try_out = TryOut()
        try:
            # The CA's key is never written: nobody can mint a certificate
            # this trust file accepts.
            self.assertEqual(sorted(os.listdir(TRY_OUT_DIR)), ["ca.pem", "port", "server.key", "server.pem"])
            st = os.stat(os.path.join(TRY_OUT_DIR, "server.key"))
            self.assertEqual(oct(st.st_mode & 0o777), "0o600")
            self.assertFalse(os.path.exists(os.path.join(TRY_OUT_DIR, "ca.key")), "the try-out CA key was kept")
            check = self.pam_otp("check")
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
            self.assertIn("try-out provider's CA", check.stdout)
            self.check_test_on_a_terminal(try_out)
            # enable refuses the try-out provider, and a broken config.
            self.assert_enable_refused(self.nss_env(SUDO_USER="alice"), "still uses the try-out provider")
            shipped = read(CONFIG)
            self.write_config(shipped.replace("attempts = 3\n", 'attempts = "three"\n'))
            self.assert_enable_refused(self.nss_env(SUDO_USER="alice"), "fix the errors above first",
                                       "key 'attempts'")
            self.write_config(shipped)
        finally:
            status = try_out.stop()
        self.assertEqual(status, 0, try_out.text())

    def check_test_on_a_terminal(self, try_out):
        start = len(try_out.lines)
        session = e2e.PtySession(["/usr/bin/pam-otp", "test", "alice"], env=self.nss_env())
        self.assertTrue(session.read_until("Code sent to +1******4567"), session.output)
        code = try_out.code_for("alice", start)
        self.assertIsNotNone(code, try_out.text())
        session.send(code)
        self.assertEqual(session.wait(), 0, session.output)
        self.assertIn(b"result: PAM_SUCCESS", session.output)
        self.assertNotIn(code.encode(), session.output, "the code was echoed")
        # Ctrl-C at the code prompt (echo off) leaves the terminal echoing.
        session = e2e.PtySession(["/usr/bin/pam-otp", "test", "alice"], env=self.nss_env())
        self.assertTrue(session.read_until("(Enter for a new one): "), session.output)
        os.write(session.fd, b"\x03")
        self.assertEqual(session.wait(), -signal.SIGINT, session.output)
        self.assertTrue(termios.tcgetattr(session.fd)[3] & termios.ECHO, "Ctrl-C left the terminal without echo")
        os.close(session.fd)

    def write_config(self, text):
        with open(CONFIG, "w") as f:
            f.write(text)

    # ---- pam-otp enable / disable, through a pty --------------------------

    def enable_root(self):
        """A copy of the PAM configuration for pam-auth-update --root, once,
        with an sshd that reaches common-auth and settings that suit it
        (enable reads DIR/etc/ssh/sshd_config)."""
        if not hasattr(self, "pam_root"):
            self.pam_root = os.path.join(self.work, "enable-root")
            self.pam_env = copy_pam_configuration(self.pam_root)
            self.common_auth = read(self.pam_root + "/etc/pam.d/common-auth")
            with open(self.pam_root + "/etc/pam.d/sshd", "w") as f:
                f.write("@include common-auth\n@include common-account\n")
            os.makedirs(self.pam_root + "/etc/ssh")
            # sshd -T needs the directory the ssh service makes when it starts.
            if not os.path.isdir("/run/sshd"):
                os.makedirs("/run/sshd", mode=0o755)
                self.addCleanup(shutil.rmtree, "/run/sshd", True)
            key = self.pam_root + "/etc/ssh/host_key"
            made = run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key])
            self.assertEqual(made.returncode, 0, made.stderr)
            self.write_sshd_config("KbdInteractiveAuthentication yes\nPasswordAuthentication no\n")
        return self.pam_root

    def write_sshd_config(self, settings):
        with open(self.pam_root + "/etc/ssh/sshd_config", "w") as f:
            f.write(f"HostKey {self.pam_root}/etc/ssh/host_key\nUsePAM yes\n" + settings)

    def enable_session(self, env, *args):
        root = self.enable_root()
        return e2e.PtySession(["/usr/bin/pam-otp", "enable", "--root", root, *args], env={**env, **self.pam_env})

    def assert_enable_refused(self, env, *expected, args=(), answer=None):
        session = self.enable_session(env, *args)
        if answer is not None:
            self.assertTrue(session.read_until("[y/N] "), session.output)
            session.send(answer)
        self.assertEqual(session.wait(), 1, session.output)
        for text in expected:
            self.assertIn(text.encode(), session.output)
        self.assertIn(b"not enabled", session.output)
        self.assertEqual(read(self.pam_root + "/etc/pam.d/common-auth"), self.common_auth,
                         "a refused enable changed common-auth")

    def check_enable_wants_a_code_the_provider_verified(self, mock):
        """A recovery code proves that alice has her codes, not that a code
        reaches her: with the provider down and failmode = "recovery", enable
        refuses, and the code stays unused; with recovery = "always" one
        typed at the code prompt is no proof either."""
        allow = ("--allow-unenrolled",)
        issued = self.pam_otp("recovery", "issue", "alice", "--count", "2")
        codes = re.findall(r"^  ([a-z]{4}-[a-z]{4}-[a-z]{4})$", issued.stdout, re.M)
        self.assertEqual(len(codes), 2, issued.stdout)
        configured = read(CONFIG)
        for key, value in (("failmode", "recovery"), ("recovery", "always")):
            changed, count = re.subn(rf'^{key} = "[a-z]*"$', f'{key} = "{value}"', configured, flags=re.M)
            self.assertEqual(count, 1, f"the shipped config sets {key} once")
            self.write_config(changed)
            mock.reset()
            if key == "failmode":  # reachable (check passes), but every send fails
                mock.call("POST", "/mock/fault", {"status": 503, "path": "/v1/otp/send"})
            session = self.enable_session(self.nss_env(SUDO_USER="alice"), *allow)
            self.assertTrue(session.read_until("[y/N] "), session.output)
            session.send("y")
            for _ in range(3):  # every prompt gets a recovery code
                if not read_until_any(session, ("Code sent to", "Recovery code:"), timeout=5):
                    break
                session.output = session.output.replace(b"Code sent to", b"(answered)").replace(b"Recovery code:", b"(answered)")
                session.send(codes[0])
            self.assertEqual(session.wait(), 1, session.output)
            self.assertIn(b"the test of alice did not succeed", session.output)
            self.assertEqual(read(self.pam_root + "/etc/pam.d/common-auth"), self.common_auth)
            mock.call("DELETE", "/mock/fault")
        listed = self.pam_otp("recovery", "list", "alice")
        self.assertIn("alice: 2 of 2 recovery codes left", listed.stdout)
        self.write_config(configured)
        self.pam_otp("recovery", "revoke", "alice")
        self.pam_otp("state", "forget", "alice")

    def check_enable_and_disable(self, mock):
        # The administrator configures a provider: here, the test's mock.
        shipped = read(CONFIG)
        self.assertIn(f'ca_file = "{TRY_OUT_DIR}/ca.pem"\n', shipped)
        self.write_config(shipped.replace(f'ca_file = "{TRY_OUT_DIR}/ca.pem"', f'ca_file = "{mock.ca}"')
                          .replace('base_url = "https://127.0.0.1:8443"', f'base_url = "{mock.url}"'))
        mock.reset()
        # alice had codes sent already: clear her send_limit counter (5 per
        # 15 minutes), as an administrator testing a lot would.
        forget = self.pam_otp("state", "forget", "alice")
        self.assertEqual(forget.returncode, 0, forget.stdout + forget.stderr)
        self.assertIn("Forgot alice's remembered logins and send_limit counters.", forget.stdout)
        self.assertTrue(os.access("/usr/sbin/sshd", os.X_OK), "scripts/test installs openssh-server")
        # sshd's Debian defaults: its password method would answer the code prompt.
        self.write_sshd_config("KbdInteractiveAuthentication no\n")
        self.assert_enable_refused(self.nss_env(SUDO_USER="alice"), "PasswordAuthentication",
                                   "KbdInteractiveAuthentication", "--allow-sshd-warnings")
        # Allowed, enable goes on, to dave: the mock sends no e-mail.
        self.assert_enable_refused(self.nss_env(SUDO_USER="alice"), "could not log in any more", ": dave.",
                                   args=("--allow-sshd-warnings",))
        self.write_sshd_config("KbdInteractiveAuthentication yes\nPasswordAuthentication no\n")
        self.assert_enable_refused(self.nss_env(SUDO_USER="alice"), "could not log in any more", ": dave.")
        allow = ("--allow-unenrolled",)
        self.assert_enable_refused(self.nss_env(), "no administrator to test", args=allow)
        self.assert_enable_refused(self.nss_env(), "dave would not be asked for a code",
                                   args=("--user", "dave", *allow))
        self.assert_enable_refused(self.nss_env(SUDO_USER="alice"), "needs a successful pam-otp test",
                                   args=allow, answer="n")
        self.assertEqual(mock.outbox(), [], "a code was sent without the administrator's yes")
        # A wrong code three times: the test fails, nothing is enabled.
        session = self.enable_session(self.nss_env(SUDO_USER="alice"), *allow)
        self.assertTrue(session.read_until("[y/N] "), session.output)
        session.send("y")
        for _ in range(3):
            self.assertTrue(session.read_until("Code sent to"), session.output)
            session.output = session.output.replace(b"Code sent to", b"(answered)")
            session.send("000000")
        self.assertEqual(session.wait(), 1, session.output)
        self.assertIn(b"the test of alice did not succeed", session.output)
        self.assertEqual(read(self.pam_root + "/etc/pam.d/common-auth"), self.common_auth)
        self.check_enable_wants_a_code_the_provider_verified(mock)
        # Yes, and the right code: enabled, and told how to undo it.
        mock.reset()
        session = self.enable_session(self.nss_env(SUDO_USER="alice"), *allow)
        self.assertTrue(session.read_until("[y/N] "), session.output)
        session.send("y")
        self.assertTrue(session.read_until("Code sent to +1******4567"), session.output)
        code = mock.last_code(ALICE_PHONE)
        self.assertTrue(code, session.output)
        session.send(code)
        self.assertEqual(session.wait(), 0, session.output)
        self.assertIn(b"pam_otp is enabled", session.output)
        self.assertIn(b"To undo: pam-otp disable", session.output)
        enabled = read(self.pam_root + "/etc/pam.d/common-auth")
        self.assertIn("pam_otp.so", enabled)
        self.assertNotIn("pam_otp", read("/etc/pam.d/common-auth"), "the real common-auth changed")
        # disable restores common-auth as it was.
        session = e2e.PtySession(["/usr/bin/pam-otp", "disable", "--root", self.pam_root],
                                 env={**self.nss_env(), **self.pam_env})
        self.assertEqual(session.wait(), 0, session.output)
        self.assertIn(b"pam_otp is out of", session.output)
        self.assertEqual(read(self.pam_root + "/etc/pam.d/common-auth"), self.common_auth)
        self.write_config(shipped)

    def check_installed_files(self):
        for path in (MODULE, HTTP_PLUGIN, PG_PLUGIN, DIRECTORY_PLUGIN, STATE_HELPER, "/usr/bin/pam-otp", CONFIG, USERS, PROFILE, TRY_OUT_SERVER,
                     "/usr/share/doc/libpam-otp/README.Debian",
                     "/usr/share/doc/libpam-otp/examples/pam_otp.conf",
                     "/usr/share/doc/libpam-otp/examples/providers/stytch.conf",
                     "/usr/share/doc/libpam-otp/examples/pam.d/sshd"):
            self.assertTrue(os.path.isfile(path), path)
        for path in (CONFIG, USERS):
            st = os.stat(path)
            self.assertEqual((st.st_uid, oct(st.st_mode & 0o777)), (0, "0o600"), path)
        conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", PACKAGE]).stdout
        self.assertIn(CONFIG, conffiles)
        self.assertIn(USERS, conffiles)
        for page in ("pam_otp.8", "pam_otp.conf.5", "pam-otp.1"):
            name, section = page.rsplit(".", 1)
            found = run(["man", "-w", section, name]).stdout.strip()
            self.assertEqual(found, f"/usr/share/man/man{section}/{page}.gz")
        # The state service's units, valid, the socket enabled (systemd
        # starts nothing in a container without it; a real system listens).
        for unit in UNITS:
            self.assertTrue(os.path.isfile(unit), unit)
        self.assertTrue(os.path.islink(ENABLED_SOCKET), ENABLED_SOCKET)
        verify = run(["systemd-analyze", "verify", "--man=no", *UNITS])
        self.assertEqual((verify.returncode, verify.stdout + verify.stderr), (0, ""))
        version = run(["/usr/bin/pam-otp", "--version"]).stdout
        self.assertIn(run(["dpkg-query", "-W", "-f=${Version}", PACKAGE]).stdout, version)

    def check_profile_is_off_and_placed_after_the_password(self):
        # Installing registered the profile without enabling it.
        with open("/etc/pam.d/common-auth") as f:
            self.assertNotIn("pam_otp", f.read())
        # Enabled, it must come after pam_unix and the pam_deny that ends a
        # failed password, so no code is ever sent for a wrong password.
        # pam-auth-update works on a copy (--root) and keeps its choices in a
        # debconf database of the test's own, so nothing of the machine's
        # changes; no mount namespace is needed (a chroot's / may not be a
        # mount point, where `unshare --propagation private` fails).
        def debconf():  # (debconf-show's order varies)
            return sorted(run(["debconf-show", "libpam-runtime"]).stdout.splitlines())
        debconf_before = debconf()
        common_auth = enable_profile_in_copy(os.path.join(self.work, "root"), "otp")
        self.assertEqual(debconf(), debconf_before, "the machine's debconf database changed")
        lines = [line.split() for line in common_auth.splitlines() if line.startswith("auth")]
        modules = [next(w for w in words if w.endswith(".so")) for words in lines]
        self.assertIn("pam_otp.so", modules, common_auth)
        otp = modules.index("pam_otp.so")
        self.assertLess(modules.index("pam_unix.so"), otp)
        self.assertLess(modules.index("pam_deny.so"), otp)
        self.assertEqual(lines[otp][1], "required")
        with open("/etc/pam.d/common-auth") as f:
            self.assertNotIn("pam_otp", f.read(), "the real common-auth changed")

    def installed_overrides(self, mock):
        # The shipped config talks to the demo provider on 127.0.0.1: point
        # it at this test's mock and CA, as module arguments would.
        return [f"ca_file={mock.ca}", f"provider.mock.base_url={mock.url}"]

    def check_installed_config(self, mock):
        argv = ["/usr/bin/pam-otp", "check"]
        for override in self.installed_overrides(mock):
            argv += ["--arg", override]
        check = run(argv)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertIn(CONFIG, check.stdout + check.stderr)

    def check_login_through_installed_module(self, mock):
        mock.reset()
        services = os.path.join(self.work, "services")
        os.makedirs(services, exist_ok=True)
        passdb = os.path.join(self.work, "passdb")
        with open(passdb, "w") as f:
            f.write("alice:alice-password:otp-installed\n")
        with open(os.path.join(self.work, "passwd"), "w") as f:
            f.write("alice:x:4301:4301:Alice:/nonexistent:/bin/false\n")
        with open(os.path.join(self.work, "group"), "w") as f:
            f.write("alice:x:4301:\n")
        # "pam_otp.so" by name: libpam finds it in the system's module directory.
        with open(os.path.join(services, "otp-installed"), "w") as f:
            f.write(f"auth requisite /usr/lib/{e2e.MULTIARCH}/pam_wrapper/pam_matrix.so passdb={passdb}\n"
                    f"auth required pam_otp.so debug {' '.join(self.installed_overrides(mock))}\n")
        # The installed service as systemd runs it at the socket's first
        # connection: the unit's own command line, on the unit's socket.
        with open(UNITS[1]) as f:
            exec_start = re.search(r"(?m)^ExecStart=(.+)$", f.read()).group(1).split()
        os.makedirs(STATE_SOCKET_DIR, mode=0o700)
        service = subprocess.Popen(["systemd-socket-activate", "-l", STATE_SOCKET_DIR + "/state.sock", *exec_start],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            output = self.log_in(mock, services, passdb)
        finally:
            service.terminate()
            service.wait()
            shutil.rmtree(STATE_SOCKET_DIR)
        # Through the default state_service, and into the package's state file.
        self.assertIn("state: through the state service at /run/pam_otp/state.sock", output)
        self.assertNotIn("not using the state service", output)
        state = os.stat("/var/lib/pam_otp/state.db")
        self.assertEqual((oct(state.st_mode & 0o777), state.st_uid), ("0o600", 0), "the state file")

    def log_in(self, mock, services, passdb):
        """alice's login through pamtester and the installed module (debug
        on); pamtester's output with pam_wrapper's log lines."""
        for _ in range(200):  # the service's socket, bound by systemd-socket-activate
            if os.path.exists(STATE_SOCKET_DIR + "/state.sock"):
                break
            time.sleep(0.05)
        env = {**os.environ, "PAM_WRAPPER_DEBUGLEVEL": "2",
               "LD_PRELOAD": f"{e2e.PAM_WRAPPER}:/usr/lib/{e2e.MULTIARCH}/libnss_wrapper.so",
               "PAM_WRAPPER": "1", "PAM_WRAPPER_SERVICE_DIR": services,
               "NSS_WRAPPER_PASSWD": os.path.join(self.work, "passwd"),
               "NSS_WRAPPER_GROUP": os.path.join(self.work, "group")}
        tester = subprocess.Popen(["pamtester", "-v", "otp-installed", "alice", "authenticate"], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        tester.stdin.write("alice-password\n")
        tester.stdin.flush()
        code = None
        for _ in range(200):
            code = mock.last_code(ALICE_PHONE)
            if code or tester.poll() is not None:
                break
            time.sleep(0.05)
        if code:
            tester.stdin.write(code + "\n")
        output, _ = tester.communicate(timeout=30)
        self.assertIsNotNone(code, output)
        self.assertEqual(tester.returncode, 0, output)
        self.assertIn("successfully authenticated", output)
        outbox = mock.outbox()
        self.assertEqual([m["to"] for m in outbox], [ALICE_PHONE])
        return output


if __name__ == "__main__":
    unittest.main()
