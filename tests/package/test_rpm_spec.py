"""packaging/rpm/pam_otp.spec cannot be built on Debian, but it can be kept
honest: rpmspec (Debian's rpm package) must parse it with Fedora's paths,
its version must be the project's, and its %files must cover exactly what
`cmake --install` installs, with the config files as 0600
%config(noreplace)."""

import fnmatch
import os
import re
import shutil
import subprocess
import tempfile
import unittest

BUILD = os.environ.get("PAM_OTP_BUILD_DIR", "")
SOURCE = os.environ.get("PAM_OTP_SOURCE_DIR", "")
SPEC = os.path.join(SOURCE, "packaging", "rpm", "pam_otp.spec")
FEDORA = {"_libdir": "/usr/lib64", "_sysconfdir": "/etc", "_bindir": "/usr/bin", "_prefix": "/usr",
          "_mandir": "/usr/share/man", "_docdir": "/usr/share/doc", "dist": ".fc40",
          "_unitdir": "/usr/lib/systemd/system"}


def parse_spec():
    argv = ["rpmspec", "-P", SPEC]
    for name, value in FEDORA.items():
        argv += ["--define", f"{name} {value}"]
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError("rpmspec -P failed:\n" + result.stderr)
    return result.stdout


def files_section(parsed):
    section = parsed.split("\n%files\n", 1)[1].split("\n%changelog", 1)[0]
    return [line.strip() for line in section.splitlines() if line.strip()]


def cmake_installed_files():
    """What cmake --install puts on a Fedora system (module directory mapped)."""
    root = tempfile.mkdtemp(prefix="pam_otp_rpm.")
    try:
        subprocess.run(["cmake", "--install", BUILD, "--prefix", "/usr"], check=True, capture_output=True,
                       env={**os.environ, "DESTDIR": root})
        paths = []
        for directory, _, names in os.walk(root):
            paths += [os.path.join(directory, n)[len(root):] for n in names]
        multiarch_security = re.compile(r"^/(usr/)?lib/[^/]+/security/")
        return sorted(multiarch_security.sub("/usr/lib64/security/", p) for p in paths)
    finally:
        shutil.rmtree(root)


class RpmSpec(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not shutil.which("rpmspec"):
            raise unittest.SkipTest("rpmspec is missing (Debian package rpm; scripts/test installs it)")
        cls.parsed = parse_spec()

    def test_version_is_the_projects(self):
        with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
            version = re.search(r"project\(pam_otp VERSION ([0-9.]+)", f.read()).group(1)
        self.assertRegex(self.parsed, rf"(?m)^Version:\s+{re.escape(version)}$")
        self.assertRegex(self.parsed, r"(?m)^Release:\s+1\.fc40$")

    def test_module_in_libdir_security_and_configs_noreplace(self):
        entries = files_section(self.parsed)
        self.assertIn("/usr/lib64/security/pam_otp.so", entries)
        for config in ("/etc/security/pam_otp.conf", "/etc/security/pam_otp.users"):
            self.assertIn(f"%attr(0600,root,root) %config(noreplace) {config}", entries)
        self.assertIn("authselect", self.parsed.split("%description", 1)[1].split("%prep", 1)[0])

    def test_files_cover_exactly_what_cmake_installs(self):
        patterns = [e.split()[-1] for e in files_section(self.parsed)
                    if not e.startswith(("%license", "%doc", "%dir"))]

        def covered_by(path, pattern):
            return path.startswith(pattern) if pattern.endswith("/") else fnmatch.fnmatch(path, pattern)

        installed = cmake_installed_files()
        self.assertGreater(len(installed), 10)
        self.assertEqual([p for p in installed if not any(covered_by(p, pat) for pat in patterns)], [],
                         "installed by cmake but missing from %files")
        self.assertEqual([pat for pat in patterns if not any(covered_by(p, pat) for p in installed)], [],
                         "in %files but not installed by cmake")


if __name__ == "__main__":
    unittest.main()
