"""A real sshd and the real ssh client: password + code, and public key +
code, with the recipes conf/pam.d/sshd(-publickey) and
conf/sshd_config.d/pam_otp-*.conf exactly as shipped (paths substituted)."""

import os
import subprocess
import tempfile
import unittest

import e2e


class SshdCase(unittest.TestCase):
    pam_recipe = "sshd"
    sshd_recipe = "pam_otp-password.conf"
    # (old, new) replacements in the sshd_config.d recipe: a deployment that
    # differs from the recipe.
    sshd_changes = ()
    permit_root_login = "no"

    @classmethod
    def setUpClass(cls):
        e2e.require_root()
        cls.work = tempfile.mkdtemp(prefix="pam_otp_e2e.")
        os.chmod(cls.work, 0o755)
        cls.mock = e2e.Mock(cls.work)
        cls.user = e2e.User("+15551230001")
        cls.config = os.path.join(cls.work, "pam_otp.conf")
        sshd_text = e2e.sshd_recipe(cls.sshd_recipe)
        for old, new in cls.sshd_changes:
            assert old in sshd_text, old
            sshd_text = sshd_text.replace(old, new)
        cls.sshd = e2e.Sshd(cls.work, e2e.recipe(cls.pam_recipe, cls.config), sshd_text, cls.permit_root_login)

    @classmethod
    def tearDownClass(cls):
        for cleanup in (cls.sshd.stop, cls.user.remove, cls.mock.stop):
            try:
                cleanup()
            except Exception as error:  # clean up the rest regardless
                print("cleanup:", error)
        subprocess.run(["rm", "-rf", cls.work])

    def setUp(self):
        self.mock.reset()
        e2e.write_config(self.work, self.mock, [self.user])

    def sends(self):
        return [r for r in self.mock.requests() if r["path"] == "/v1/otp/send"]

    def assert_check_clean(self):
        status, output = self.sshd.check(self.config)
        self.assertEqual(status, 0, output)
        self.assertNotIn("warning", output)

    def verifies(self):
        return [r for r in self.mock.requests() if r["path"] == "/v1/otp/verify"]

    def assert_one_send_to_the_user(self):
        outbox = self.mock.outbox()
        self.assertEqual(len(outbox), 1, outbox)
        self.assertEqual(outbox[0]["to"], self.user.phone)
        self.assertEqual(outbox[0]["user"], self.user.name)


class PasswordThenCode(SshdCase):

    def test_a_password_then_code(self):
        status, out, err, prompts, _ = e2e.ssh(self.sshd, self.user, self.mock)
        self.assertEqual(status, 0, err)
        self.assertIn(f"LOGGED_IN_AS {self.user.name}", out)
        self.assertEqual(len(prompts), 2, prompts)
        self.assertIn("Password:", prompts[0])
        self.assertIn("Code sent to +1******0001 (Enter for a new one): ", prompts[1])
        self.assert_one_send_to_the_user()

    def test_c_wrong_code_is_refused(self):
        status, out, err, prompts, _ = e2e.ssh(self.sshd, self.user, self.mock, code="wrong")
        self.assertEqual(status, 255, out)
        self.assertNotIn("LOGGED_IN_AS", out)
        self.assertEqual(sum("Code sent to" in p for p in prompts), 3, prompts)
        self.assert_one_send_to_the_user()

    def test_wrong_password_sends_nothing(self):
        status, out, err, prompts, _ = e2e.ssh(self.sshd, self.user, self.mock, password="not-the-password")
        self.assertEqual(status, 255, out)
        self.assertEqual(self.sends(), [])

    def test_d_lockout_is_refused_and_the_client_sees_why(self):
        self.mock.reset(max_failures=1)
        status, out, err, prompts, _ = e2e.ssh(self.sshd, self.user, self.mock, code="wrong")
        self.assertEqual(status, 255)
        self.assertIn("Too many failed attempts. Try again in 15 minutes.", err)
        # Locked at the next login's send: refused without a code prompt.
        status, out, err, prompts, _ = e2e.ssh(self.sshd, self.user, self.mock)
        self.assertEqual(status, 255)
        self.assertFalse(any("Code sent to" in p for p in prompts), prompts)
        self.assertIn("Try again in 15 minutes.", err)
        self.assertEqual(len(self.mock.outbox()), 1)

    def test_e_provider_down_is_refused_within_the_timeout(self):
        config = e2e.write_config(self.work, self.mock, [self.user], top="timeout = 2\nconnect_timeout = 1")
        with open(config) as f:
            text = f.read().replace(self.mock.url, "https://127.0.0.1:1")
        with open(config, "w") as f:
            f.write(text)
        status, out, err, prompts, elapsed = e2e.ssh(self.sshd, self.user, self.mock)
        self.assertEqual(status, 255)
        # (sshd forwards PAM messages to the client for PAM_MAXTRIES and
        # PAM_AUTH_ERR only, so "The code service is unavailable" is not shown.)
        self.assertFalse(any("Code sent to" in p for p in prompts), prompts)
        # pam_otp's share is bounded by timeout (2 s); the rest is ssh's own work.
        self.assertLess(elapsed, 2 + 5)

    def test_pam_otp_check_finds_nothing_wrong_with_the_recipe(self):
        self.assert_check_clean()

    def test_f_exempt_group_asks_no_code(self):
        e2e.write_config(self.work, self.mock, [self.user], top=f'exempt_groups = ["{self.user.name}"]')
        status, out, err, prompts, _ = e2e.ssh(self.sshd, self.user, self.mock)
        self.assertEqual(status, 0, err)
        self.assertIn("LOGGED_IN_AS", out)
        self.assertEqual(len(prompts), 1, prompts)
        self.assertEqual(self.mock.requests(), [])


class RememberedLogin(SshdCase):
    """remember = 600: a second ssh from the same client within it skips the
    code (the password is still asked)."""

    def setUp(self):
        self.mock.reset()
        e2e.write_config(self.work, self.mock, [self.user], top="remember = 600")

    def test_a_second_ssh_from_the_same_client_skips_the_code(self):
        status, out, err, prompts, _ = e2e.ssh(self.sshd, self.user, self.mock)
        self.assertEqual(status, 0, err)
        self.assertEqual(len(prompts), 2, prompts)
        status, out, err, prompts, _ = e2e.ssh(self.sshd, self.user, self.mock)
        self.assertEqual(status, 0, err)
        self.assertIn(f"LOGGED_IN_AS {self.user.name}", out)
        self.assertEqual(len(prompts), 1, prompts)  # the password only
        self.assertIn("Password:", prompts[0])
        self.assert_one_send_to_the_user()
        listed = subprocess.run([e2e.CLI, "state", "list", "--config", self.config], capture_output=True, text=True)
        self.assertIn(f"{self.user.name}  sshd  verified", listed.stdout, listed.stderr)
        self.assertNotIn("127.0.0.1", listed.stdout)


class PublicKeyThenCode(SshdCase):
    pam_recipe = "sshd-publickey"
    sshd_recipe = "pam_otp-publickey.conf"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key = os.path.join(cls.work, "id_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", cls.key], check=True)
        cls.sshd.authorize(cls.user, open(cls.key + ".pub").read())

    def test_b_key_then_code(self):
        status, out, err, prompts, _ = e2e.ssh(self.sshd, self.user, self.mock, key=self.key)
        self.assertEqual(status, 0, err)
        self.assertIn(f"LOGGED_IN_AS {self.user.name}", out)
        self.assertEqual(len(prompts), 1, prompts)  # the code only: no password
        self.assertIn("Code sent to +1******0001", prompts[0])
        self.assert_one_send_to_the_user()

    def test_pam_otp_check_finds_nothing_wrong_with_the_recipe(self):
        self.assert_check_clean()

    def test_key_then_wrong_code_is_refused(self):
        status, out, err, prompts, _ = e2e.ssh(self.sshd, self.user, self.mock, key=self.key, code="wrong")
        self.assertEqual(status, 255)
        self.assertNotIn("LOGGED_IN_AS", out)
        self.assert_one_send_to_the_user()

    def test_without_the_key_nothing_is_asked(self):
        status, out, err, prompts, _ = e2e.ssh(self.sshd, self.user, self.mock)
        self.assertEqual(status, 255)
        self.assertEqual(prompts, [])
        self.assertEqual(self.mock.requests(), [])

    def test_exempt_user_passes_with_the_key_alone(self):
        e2e.write_config(self.work, self.mock, [self.user], top=f'exempt_groups = ["{self.user.name}"]')
        status, out, err, prompts, _ = e2e.ssh(self.sshd, self.user, self.mock, key=self.key)
        self.assertEqual(status, 0, err)  # PAM_IGNORE, then pam_permit
        self.assertEqual(prompts, [])
        self.assertEqual(self.mock.requests(), [])


class RootUnderProhibitPassword(SshdCase):
    """Root with a key and a code under sshd's default PermitRootLogin
    prohibit-password: sshd replaces each of root's keyboard-interactive
    answers with its INCORRECT marker (auth-pam.c, sshpam_respond)."""
    pam_recipe = "sshd-publickey"
    sshd_recipe = "pam_otp-publickey.conf"
    permit_root_login = "prohibit-password"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = e2e.ExistingUser("root", "+15551230009")
        cls.key = os.path.join(cls.work, "id_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", cls.key], check=True)
        cls.sshd.authorize(cls.root, open(cls.key + ".pub").read())

    def setUp(self):
        self.mock.reset()
        e2e.write_config(self.work, self.mock, [self.user, self.root])

    def test_the_faked_answer_ends_the_login_at_once(self):
        status, out, err, prompts, _ = e2e.ssh(self.sshd, self.root, self.mock, key=self.key)
        self.assertEqual(status, 255, out)
        self.assertNotIn("LOGGED_IN_AS", out)
        self.assertEqual(sum("Code sent to" in p for p in prompts), 1, prompts)  # no second prompt
        self.assertEqual(len(self.sends()), 1)
        self.assertEqual(self.verifies(), [])
        log = self.sshd.log_text()
        self.assertIn("result=sshd_faked_answer user=root", log)

    def test_pam_otp_check_warns_about_permit_root_login(self):
        status, output = self.sshd.check(self.config)
        self.assertEqual(status, 0, output)
        self.assertIn("key 'PermitRootLogin': is 'prohibit-password'", output)


class SshdPasswordMethod(SshdCase):
    """PasswordAuthentication yes (Debian's default) with the password recipe:
    sshd's password method answers every PAM prompt with the password, the
    code prompt included. The password never reaches the provider as a code."""
    sshd_changes = (("PasswordAuthentication no", "PasswordAuthentication yes"),
                    ("AuthenticationMethods keyboard-interactive", ""))

    def test_pam_otp_check_warns_about_the_password_method(self):
        status, output = self.sshd.check(self.config)
        self.assertEqual(status, 0, output)  # a warning, not an error
        self.assertIn("key 'PasswordAuthentication': is 'yes' and", output)
        self.assertIn("sshd's password method answers EVERY PAM prompt", output)

    def test_the_password_is_never_sent_as_a_code(self):
        status, out, err, prompts, _ = e2e.ssh(self.sshd, self.user, self.mock, methods="password")
        self.assertEqual(status, 255, out)
        self.assertNotIn("LOGGED_IN_AS", out)
        self.assertEqual(self.verifies(), [])
        log = self.sshd.log_text()
        self.assertIn("result=password_as_code", log)
        self.assertIn("KbdInteractiveAuthentication yes", log)
        self.assertNotIn(self.user.password, log)


class PublicKeyRecipeWithoutAuthenticationMethods(SshdCase):
    """The public key recipe whose AuthenticationMethods line was lost (an
    earlier drop-in won, a typo): keyboard-interactive alone reaches the PAM
    stack, and require_ssh_methods lets nobody in through it."""
    pam_recipe = "sshd-publickey"
    sshd_recipe = "pam_otp-publickey.conf"
    sshd_changes = (("AuthenticationMethods publickey,keyboard-interactive", ""),)

    def test_a_user_pam_otp_covers_is_refused_even_with_the_right_code(self):
        status, out, err, prompts, _ = e2e.ssh(self.sshd, self.user, self.mock)
        self.assertEqual(status, 255, out)
        self.assertNotIn("LOGGED_IN_AS", out)
        self.assertEqual(self.mock.requests(), [])
        self.assertIn("result=ssh_methods_missing", self.sshd.log_text())

    def test_pam_otp_check_warns_about_authentication_methods(self):
        status, output = self.sshd.check(self.config)
        self.assertIn("key 'AuthenticationMethods': is 'any'", output)
        self.assertNotIn("key 'require_ssh_methods'", output)  # the recipe has it

    def test_an_exempt_user_is_refused_too(self):
        e2e.write_config(self.work, self.mock, [self.user], top=f'exempt_groups = ["{self.user.name}"]')
        status, out, err, prompts, _ = e2e.ssh(self.sshd, self.user, self.mock)
        self.assertEqual(status, 255, out)
        self.assertNotIn("LOGGED_IN_AS", out)
        self.assertIn("result=ssh_methods_missing", self.sshd.log_text())


if __name__ == "__main__":
    unittest.main()
