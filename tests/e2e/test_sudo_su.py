"""Real sudo, su and login stacks with the recipes conf/pam.d/sudo, su and
login exactly as shipped (paths substituted)."""

import os
import subprocess
import tempfile
import time
import unittest

import e2e


class StackCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        e2e.require_root()
        e2e.restore_stale_su_backup()
        cls.work = tempfile.mkdtemp(prefix="pam_otp_e2e.")
        os.chmod(cls.work, 0o755)
        cls.mock = e2e.Mock(cls.work)
        cls.user = e2e.User("+15551230002")
        cls.other = e2e.User("+15551230003")
        cls.config = os.path.join(cls.work, "pam_otp.conf")

    @classmethod
    def tearDownClass(cls):
        for cleanup in (cls.user.remove, cls.other.remove, cls.mock.stop):
            try:
                cleanup()
            except Exception as error:
                print("cleanup:", error)
        subprocess.run(["rm", "-rf", cls.work])

    def setUp(self):
        self.mock.reset()
        e2e.write_config(self.work, self.mock, [self.user, self.other])

    def assert_one_send_to(self, user):
        outbox = self.mock.outbox()
        self.assertEqual(len(outbox), 1, outbox)
        self.assertEqual(outbox[0]["to"], user.phone)


def sudo_files(user, config, defaults=""):
    """A PAM service of sudo's own for user (sudoers: pam_service=...), with more Defaults."""
    service = "pam_otp_e2e_sudo"
    return e2e.new_files({
        f"/etc/pam.d/{service}": (e2e.recipe("sudo", config), 0o644),
        "/etc/sudoers.d/pam_otp_e2e": (f"Defaults:{user.name} pam_service={service}{defaults}\n"
                                       f"{user.name} ALL=(ALL) ALL\n", 0o440),
    })


class Sudo(StackCase):
    """sudo with a PAM service of its own (sudoers: Defaults pam_service=...)."""

    def sudo_files(self):
        return sudo_files(self.user, self.config)

    def sudo(self, *args):
        return subprocess.Popen(["runuser", "-u", self.user.name, "--", "sudo", *args], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def test_password_then_code(self):
        with self.sudo_files():
            status, out, err = e2e.feed_with_code(self.sudo("-S", "-k", "id", "-un"), self.mock, self.user,
                                                  self.user.password)
        self.assertEqual(status, 0, err)
        self.assertEqual(out.strip(), "root")
        self.assertIn("Code sent to +1******0002", err)
        self.assert_one_send_to(self.user)

    def test_wrong_code_is_refused(self):
        with self.sudo_files():
            status, out, err = e2e.feed_with_code(self.sudo("-S", "-k", "id", "-un"), self.mock, self.user,
                                                  self.user.password, code="wrong")
        self.assertNotEqual(status, 0)
        self.assertEqual(out, "")
        # sudo -S without a terminal drops PAM's error messages; the three
        # code prompts show the attempts.
        self.assertEqual(err.count("Code sent to +1******0002"), 3, err)
        self.assert_one_send_to(self.user)

    def test_non_interactive_fails_at_once_without_sending(self):
        with self.sudo_files():
            done = subprocess.run(["runuser", "-u", self.user.name, "--", "sudo", "-n", "-k", "true"],
                                  capture_output=True, text=True, timeout=30)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("a password is required", done.stderr)
        self.assertEqual(self.mock.requests(), [])


class SudoCallerControlsTheProcess(StackCase):
    """sudo runs pam_otp with its caller's real uid: the caller may stop it
    (SIGSTOP) or lower its limits. With failmode = "safe" neither may let the
    login through without a code; only an outage the caller cannot cause
    (here: a refused connection) does. (The lowered limits are tested
    through libpam with otp-login acting as a setuid program, in
    tests/integration/caller_integration_test.cc: how many descriptors real
    sudo itself holds varies from run to run.)"""

    TOP = 'failmode = "safe"\ntimeout = 2\nconnect_timeout = 1'

    def setUp(self):
        super().setUp()
        e2e.write_config(self.work, self.mock, [self.user, self.other], top=self.TOP)
        # sudo calls pam_authenticate with PAM_SILENT: what pam_otp decided
        # is only in its log.
        self.syslog = e2e.Syslog(self.work)
        self.addCleanup(self.syslog.close)

    def logged(self):
        return "\n".join(line for line in self.syslog.read().splitlines() if "pam_otp" in line or "result=" in line)

    def sudo_files(self):
        return sudo_files(self.user, self.config, ", passwd_tries=1")  # a refusal ends sudo

    def sudo_on_a_terminal(self):
        # setpriv, not runuser: runuser waits for its child and stops itself
        # when the child stops, so a harness under it would hang after the
        # caller's SIGCONT. The caller's sudo has no such parent.
        return e2e.PtySession(self.syslog.wrap(["setpriv", f"--reuid={self.user.name}",
                                                f"--regid={self.user.name}", "--init-groups",
                                                "sudo", "-k", "id", "-un"]))

    def as_caller(self, *argv):
        subprocess.run(["runuser", "-u", self.user.name, "--", *argv], check=True, timeout=10)

    def sent(self):
        return [r for r in self.mock.requests() if r["path"].endswith("/send")]

    def test_without_interference_the_delayed_provider_works(self):
        self.mock.call("POST", "/mock/fault", {"delay_ms": 1000})
        with self.sudo_files():
            session = self.sudo_on_a_terminal()
            self.assertTrue(session.read_until("password for"), session.output)
            session.send(self.user.password)
            self.assertTrue(session.read_until("Code sent to +1******0002"), session.output)
            session.send(self.mock.last_code(self.user.phone))
            status = session.wait()
        self.assertEqual(status, 0, session.output)
        self.assertIn(b"root", session.output.split(b"Code sent to")[1])

    def test_a_refused_connection_still_fails_open(self):
        closed = e2e.free_port()
        with open(self.config) as f:
            text = f.read()
        with open(self.config, "w") as f:
            f.write(text.replace(self.mock.url, f"https://127.0.0.1:{closed}"))
        with self.sudo_files():
            session = self.sudo_on_a_terminal()
            self.assertTrue(session.read_until("password for"), session.output)
            session.send(self.user.password)
            status = session.wait()
        self.assertEqual(status, 0, session.output)
        self.assertIn(b"root", session.output)
        self.assertNotIn(b"Code sent to", session.output)
        self.assertIn("result=failopen", self.logged())

    def test_stopped_while_the_code_is_sent(self):
        self.mock.call("POST", "/mock/fault", {"delay_ms": 1000})
        with self.sudo_files():
            session = self.sudo_on_a_terminal()
            self.assertTrue(session.read_until("password for"), session.output)
            session.send(self.user.password)
            deadline = time.monotonic() + 20
            while not self.sent() and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertTrue(self.sent(), session.output)
            sudo = e2e.process_named("sudo", session.pid)
            self.as_caller("kill", "-STOP", str(sudo))  # the caller may: sudo's real uid is theirs
            self.assertEqual(e2e.process_state(sudo), "T")
            time.sleep(3)  # longer than timeout = 2
            self.as_caller("kill", "-CONT", str(sudo))
            status = session.wait()
        log = self.logged()
        self.assertEqual(status, 1, session.output)  # sudo's refusal, not the test's kill (-9) of a hang
        self.assertNotIn(b"root", session.output)
        self.assertIn("result=unavailable", log)
        self.assertIn("timeout:", log)
        self.assertIn("failmode=safe does not apply: whoever started this process", log)
        self.assertEqual(len(self.sent()), 1)


class Su(StackCase):
    """su from one user to another: the target's password, then a code."""

    def test_password_then_code(self):
        with e2e.replaced_file("/etc/pam.d/su", e2e.recipe("su", self.config), e2e.SU_BACKUP):
            session = e2e.PtySession(["runuser", "-u", self.other.name, "--", "su", self.user.name, "-c", "id -un"])
            self.assertTrue(session.read_until("Password:"), session.output)
            session.send(self.user.password)
            self.assertTrue(session.read_until("Code sent to +1******0002"), session.output)
            session.send(self.mock.last_code(self.user.phone))
            status = session.wait()
        self.assertEqual(status, 0, session.output)
        self.assertIn(self.user.name.encode(), session.output.split(b"Code sent to")[1])
        self.assert_one_send_to(self.user)

    def test_wrong_code_is_refused(self):
        with e2e.replaced_file("/etc/pam.d/su", e2e.recipe("su", self.config), e2e.SU_BACKUP):
            session = e2e.PtySession(["runuser", "-u", self.other.name, "--", "su", self.user.name, "-c", "id -un"])
            self.assertTrue(session.read_until("Password:"), session.output)
            session.send(self.user.password)
            for _ in range(3):
                self.assertTrue(session.read_until("Code sent to"), session.output)
                session.send(e2e.wrong(self.mock.last_code(self.user.phone)))
                session.output = session.output.replace(b"Code sent to", b"(answered)", 1)
            status = session.wait()
        self.assertNotEqual(status, 0)
        self.assertIn(b"Incorrect code. No attempts left.", session.output)
        self.assert_one_send_to(self.user)


class SuCallerMode(StackCase):
    """destination_user = "caller": su to another account asks for the code
    sent to the person who typed su (PAM_RUSER), not to the target's phone."""

    def test_the_callers_code(self):
        e2e.write_config(self.work, self.mock, [self.user, self.other], top='destination_user = "caller"')
        with e2e.replaced_file("/etc/pam.d/su", e2e.recipe("su", self.config), e2e.SU_BACKUP):
            session = e2e.PtySession(["runuser", "-u", self.other.name, "--", "su", self.user.name, "-c", "id -un"])
            self.assertTrue(session.read_until("Password:"), session.output)
            session.send(self.user.password)  # the target's password, as su asks
            self.assertTrue(session.read_until("Code sent to +1******0003"), session.output)
            session.send(self.mock.last_code(self.other.phone))
            status = session.wait()
        self.assertEqual(status, 0, session.output)
        self.assertIn(self.user.name.encode(), session.output.split(b"Code sent to")[1])
        self.assert_one_send_to(self.other)


class ConsoleLogin(StackCase):
    """The login recipe, run by pamtester under pam_wrapper (service "login")."""

    def test_password_then_code(self):
        services = tempfile.mkdtemp(prefix="services.", dir=self.work)
        with open(os.path.join(services, "login"), "w") as f:
            f.write(e2e.recipe("login", self.config))
        for name in os.listdir("/etc/pam.d"):
            if name.startswith("common-") or name == "other":
                subprocess.run(["cp", os.path.join("/etc/pam.d", name), services], check=True)
        env = dict(os.environ, LD_PRELOAD=e2e.PAM_WRAPPER, PAM_WRAPPER="1", PAM_WRAPPER_SERVICE_DIR=services)
        proc = subprocess.Popen(["pamtester", "login", self.user.name, "authenticate"], env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        status, out, err = e2e.feed_with_code(proc, self.mock, self.user, self.user.password)
        self.assertEqual(status, 0, out + err)
        self.assertIn("successfully authenticated", out + err)
        self.assert_one_send_to(self.user)


if __name__ == "__main__":
    unittest.main()
