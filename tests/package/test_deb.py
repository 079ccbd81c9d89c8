"""The Debian package, as an administrator gets it: scripts/build-deb builds
libpam-otp with dpkg-buildpackage and checks it with lintian; the package is
installed on this machine, its pam-auth-update profile tried (on a copy of
the PAM configuration, so the real /etc/pam.d never changes), `pam-otp check` run
on the installed config, a user logged in through the installed module
(pam_wrapper service, pam_matrix password, the mock provider), and the
package purged again, leaving nothing behind.

Needs root (CI is root); skipped with a reason otherwise. Refuses to run if
libpam-otp is already installed or /etc/security/pam_otp.conf exists: an
administrator's files are never touched.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import e2e  # noqa: E402  (the mock provider and paths)

PACKAGE = "libpam-otp"
CONFIG = "/etc/security/pam_otp.conf"
USERS = "/etc/security/pam_otp.users"
PROFILE = "/usr/share/pam-configs/otp"
MODULE = f"/lib/{e2e.MULTIARCH}/security/pam_otp.so"
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


def enable_profile_in_copy(root, profile):
    """Runs `pam-auth-update --enable PROFILE` on a copy of the machine's PAM
    configuration under root (and a private debconf database); returns the
    copy's common-auth."""
    for d in ("/etc/pam.d", "/var/lib/pam", "/usr/share/pam-configs"):
        shutil.copytree(d, root + d, symlinks=True, dirs_exist_ok=True)
    # DEBCONF_DB_REPLACE makes the machine's debconf databases read-only for
    # this process and keeps what pam-auth-update stores in a file of ours
    # (DEBCONF_DB_OVERRIDE would still write to the machine's).
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive",
           "DEBCONF_DB_REPLACE": "File{%s}" % os.path.join(root, "debconf.dat")}
    done = run(["pam-auth-update", "--root", root, "--enable", profile], env=env)
    if done.returncode != 0:
        raise AssertionError("pam-auth-update --root failed: " + done.stdout + done.stderr)
    with open(root + "/etc/pam.d/common-auth") as f:
        return f.read()


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
        install = run(["dpkg", "-i", self.deb])
        self.assertEqual(install.returncode, 0, install.stdout + install.stderr)
        files = [line for line in run(["dpkg", "-L", PACKAGE]).stdout.splitlines() if os.path.isfile(line)]
        self.assertGreater(len(files), 20, files)
        try:
            self.check_installed_files()
            self.check_profile_is_off_and_placed_after_the_password()
            mock = e2e.Mock(self.work)
            try:
                self.check_installed_config(mock)
                self.check_login_through_installed_module(mock)
            finally:
                mock.stop()
        finally:
            purge = run(["dpkg", "--purge", PACKAGE])
        self.assertEqual(purge.returncode, 0, purge.stdout + purge.stderr)
        self.assertEqual([f for f in files if os.path.lexists(f)], [], "files left after purge")
        self.assertEqual(snapshot(WATCHED), self.before, "purge did not restore " + ", ".join(WATCHED))

    def check_installed_files(self):
        for path in (MODULE, "/usr/bin/pam-otp", CONFIG, USERS, PROFILE,
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
                    f"auth required pam_otp.so {' '.join(self.installed_overrides(mock))}\n")
        env = {**os.environ,
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


if __name__ == "__main__":
    unittest.main()
