"""pam_otp's privacyidea preset against a real privacyIDEA 3.11.4
(../shared/privacyidea/start beside the checkout; see its README), each case
a whole login through libpam (pam_wrapper, tests/privacyidea/pam_client.py),
checked against what privacyIDEA itself records: its tokens' fail counters
and its audit log.

Skips, with the reason printed, when the server's start script is absent (a
clone outside this workspace) or when not root (the script installs Debian
packages); fails when it is present and the server does not start."""
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("PAM_OTP_SOURCE_DIR", os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("PAM_OTP_BUILD_DIR", os.path.join(SOURCE, "build", "default"))
START = os.environ.get("PAM_OTP_PRIVACYIDEA", os.path.join(SOURCE, "..", "shared", "privacyidea", "start"))
USERS = [f"pi{i:02d}" for i in range(1, 31)]
PAM_PERMIT = next((p for p in ("/usr/lib/x86_64-linux-gnu/security/pam_permit.so", "/lib/x86_64-linux-gnu/security/pam_permit.so",
                                f"/usr/lib/{os.uname().machine}-linux-gnu/security/pam_permit.so", "/lib/security/pam_permit.so",
                                "/usr/lib64/security/pam_permit.so") if os.path.exists(p)), "pam_permit.so")

server = None  # the one server of this run


def skip_reason():
    if not os.path.exists(START):
        return f"the privacyIDEA test server is not here ({os.path.normpath(START)}): a clone outside the workspace"
    if os.geteuid() != 0:
        return "the privacyIDEA test server needs root (its start script installs Debian packages)"
    return None


class Server:
    """The running privacyIDEA, its admin API and its message sinks."""

    def __init__(self, work):
        self.dir = os.path.join(work, "pi")
        passwd = os.path.join(work, "pi-users.passwd")
        with open(passwd, "w") as f:
            for i, name in enumerate(USERS):
                f.write(f"{name}:x:{3001 + i}:{3001 + i}:{name}:/nonexistent:/bin/false\n")
        done = subprocess.run([START, self.dir, passwd], capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"privacyIDEA did not start (exit {done.returncode}): {done.stderr.strip()}")
        with open(os.path.join(self.dir, "env")) as f:
            self.env = dict(line.strip().split("=", 1) for line in f if "=" in line)
        self.url = self.env["PI_URL"]
        self.sms_url = f"http://127.0.0.1:{self.env['PI_SMS_GATEWAY']}/sms"
        self.tls = ssl.create_default_context(cafile=self.env["PI_CA"])
        self.jwt = self.call("POST", "/auth", username="admin", password=self.env["PI_ADMIN_PASSWORD"])["token"]

    def call(self, method, path, **data):
        body = urllib.parse.urlencode(data).encode() if method != "GET" else None
        if method == "GET" and data:
            path += "?" + urllib.parse.urlencode(data)
        request = urllib.request.Request(self.url + path, data=body, method=method)
        if getattr(self, "jwt", None):
            request.add_header("Authorization", self.jwt)
        try:
            with urllib.request.urlopen(request, context=self.tls, timeout=30) as r:
                answer = json.load(r)
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{method} {path}: HTTP {e.code} {e.read()[:300]!r}") from None
        return answer["result"].get("value")

    def enrol(self, user, kind="sms", pin=None, serial=None):
        serial = serial or f"{kind.upper()}_{user}"
        data = {"type": kind, "user": user, "realm": "corp", "genkey": 1, "serial": serial}
        data.update({"phone": phone(user)} if kind == "sms" else {"email": mail(user)})
        if pin is not None:
            data["pin"] = pin
        self.call("POST", "/token/init", **data)
        return serial

    def failcount(self, serial):
        return self.call("GET", "/token/", serial=serial)["tokens"][0]["failcount"]

    def audit(self, user):
        """privacyIDEA's audit entries of /validate/* for the user, oldest first."""
        rows = self.call("GET", "/audit/", user=user, page_size=100)["auditdata"]
        return sorted((r for r in rows if r["action"].startswith("POST /validate/")), key=lambda r: r["number"])

    def set_config(self, **values):
        self.call("POST", "/system/setConfig", **values)

    def kill(self, pid_file):
        with open(os.path.join(self.dir, "run", pid_file)) as f:
            pid = int(f.read())
        with_group = pid_file == "pi.pid"  # the server runs under a shell, in a session of its own
        try:
            os.killpg(pid, signal.SIGKILL) if with_group else os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self):
        subprocess.run([os.path.join(os.path.dirname(START), "stop"), self.dir], timeout=60)
        self.kill("pi.pid")


# The SMS gateway as ../shared/privacyidea/start configures it (its URL
# aside), for changing it and back.
GATEWAY = {"name": "sinkgw", "module": "privacyidea.lib.smsprovider.HttpSMSProvider.HttpSMSProvider",
           "option.HTTP_METHOD": "POST", "option.CHECK_SSL": "no", "option.RETURN_SUCCESS": "OK",
           "option.TIMEOUT": "3", "option.phone": "{phone}", "option.text": "{otp}"}


def phone(user):
    return f"+1555{3000 + USERS.index(user):07d}"


def mail(user):
    return f"{user}@corp.example"


def setUpModule():
    global server
    reason = skip_reason()
    if reason:
        print(f"\nskipped: {reason}", file=sys.stderr)
        raise unittest.SkipTest(reason)
    work = tempfile.mkdtemp(prefix="pam_otp_pi.")
    os.chmod(work, 0o755)
    server = Server(work)
    server.work = work


def tearDownModule():
    if server is not None:
        server.stop()
        shutil.rmtree(server.work, ignore_errors=True)


class Login:
    """pam_otp in a pam_wrapper service of its own, with a config of its own."""

    def __init__(self, case, provider_extra="", top=""):
        self.work = tempfile.mkdtemp(prefix="login.", dir=server.work)
        services = os.path.join(self.work, "services")
        os.mkdir(services)
        users = os.path.join(self.work, "pam_otp.users")
        with open(users, "w") as f:
            f.write("".join(f"{name}\n" for name in USERS) + "nopi\n")
        config = os.path.join(self.work, "pam_otp.conf")
        with open(os.open(config, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(f'users_file = "{users}"\nca_file = "{server.env["PI_CA"]}"\n'
                    f'state_file = "{self.work}/state/state.db"\ntimeout = 5\n{top}\n'
                    f'[provider.pi]\npreset = "privacyidea"\nbase_url = "{server.url}"\nrealm = "corp"\n{provider_extra}\n')
        # As the shipped stacks: pam_permit after pam_otp, whose PAM_IGNORE
        # (fail-open) alone would leave libpam nothing to succeed with.
        with open(os.path.join(services, "pi"), "w") as f:
            f.write(f"auth required {BUILD}/src/pam_otp.so config={config}\nauth required {PAM_PERMIT}\n")
        with open(os.path.join(self.work, "passwd"), "w") as f:
            for i, name in enumerate(USERS + ["nopi"]):
                f.write(f"{name}:x:{3001 + i}:{3001 + i}:{name}:/nonexistent:/bin/false\n")
        with open(os.path.join(self.work, "group"), "w") as f:
            f.write("".join(f"{name}:x:{3001 + i}:\n" for i, name in enumerate(USERS + ["nopi"])))
        self.env = dict(os.environ, LD_PRELOAD=f"{os.environ['PAM_WRAPPER_LIB']}:{os.environ['NSS_WRAPPER_LIB']}",
                        PAM_WRAPPER="1", PAM_WRAPPER_SERVICE_DIR=services, PAM_WRAPPER_DEBUGLEVEL="2",
                        NSS_WRAPPER_PASSWD=os.path.join(self.work, "passwd"),
                        NSS_WRAPPER_GROUP=os.path.join(self.work, "group"))
        case.addCleanup(shutil.rmtree, self.work, True)

    def run(self, user, *answers):
        done = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "pam_client.py"), "pi", user, json.dumps(answers)],
                              env=self.env, capture_output=True, text=True, timeout=180)
        if done.returncode != 0 or not done.stdout.strip():
            raise AssertionError(f"pam_client failed ({done.returncode}): {done.stderr[-2000:]}")
        out = json.loads(done.stdout)
        return Outcome(out["status"], out["conversation"], done.stderr)


class Outcome:
    def __init__(self, status, conversation, log):
        self.status, self.conversation = status, conversation
        self.log = "\n".join(line for line in log.splitlines() if "SYSLOG(" in line)  # pam_syslog, via pam_wrapper

    def shown(self):
        return "\n".join(text for _, text in self.conversation)

    def prompts(self):
        return [text for kind, text in self.conversation if kind.startswith("prompt")]

    def __str__(self):
        return f"{self.status}\nconversation: {self.conversation}\nlog:\n{self.log}"


def code(user, **more):
    return dict({"code_to": phone(user), "sms_log": server.env["PI_SMS_LOG"], "mail_log": server.env["PI_MAIL_LOG"]}, **more)


def mail_code(user, **more):
    return dict({"code_to": mail(user), "sms_log": server.env["PI_SMS_LOG"], "mail_log": server.env["PI_MAIL_LOG"]}, **more)




def admin_lines():
    return f'admin_user = "admin"\nadmin_password = "{server.env["PI_ADMIN_PASSWORD"]}"\n'


class PrivacyIdea(unittest.TestCase):
    """Each case has users of its own, so fail counters never leak."""

    def test_send_and_verify(self):
        serial = server.enrol("pi01")
        r = Login(self).run("pi01", code("pi01"))
        self.assertEqual(r.status, "PAM_SUCCESS", r)
        self.assertIn("Enter the OTP from the SMS", r.shown())  # privacyIDEA's own challenge message
        self.assertIn("result=success", r.log)
        self.assertEqual(server.failcount(serial), 0)
        audit = server.audit("pi01")
        self.assertEqual([a["success"] for a in audit][-1], True, audit)
        self.assertIn("/validate/check", audit[-1]["action"])

    def test_wrong_codes_use_up_the_attempts_and_count_at_privacyidea(self):
        serial = server.enrol("pi02")
        r = Login(self).run("pi02", *[code("pi02", wrong=True)] * 3)
        self.assertEqual(r.status, "PAM_MAXTRIES", r)
        # privacyIDEA gave the challenge's validity, which has not passed: wrong, not expired.
        self.assertIn("Incorrect code, 2 attempts left.", r.shown())
        self.assertIn("result=max_tries", r.log)
        self.assertEqual(server.failcount(serial), 3)
        self.assertEqual(sum(1 for a in server.audit("pi02") if "did not match" in a["info"]), 3)

    def test_a_locked_token_is_a_lockout_and_the_right_code_is_not_revealed(self):
        serial = server.enrol("pi03")
        server.call("POST", f"/token/set/{serial}", max_failcount=2)
        r = Login(self).run("pi03", code("pi03", wrong=True), code("pi03", wrong=True), code("pi03"))
        self.assertEqual(r.status, "PAM_MAXTRIES", r)
        self.assertIn("Too many attempts.", r.shown())
        self.assertNotIn("Challenge matches", r.shown())  # privacyIDEA's words say the code was right
        self.assertIn("result=locked", r.log)
        self.assertIn("Failcounter exceeded", r.log)
        again = Login(self).run("pi03", code("pi03"))
        self.assertEqual(again.status, "PAM_MAXTRIES", again)
        self.assertEqual(again.prompts(), [])
        self.assertIn("result=locked", again.log)

    def test_a_disabled_token_is_said_to_be_disabled(self):
        serial = server.enrol("pi04")
        server.call("POST", f"/token/disable/{serial}")
        for extra in ("", admin_lines()):
            with self.subTest(admin=bool(extra)):
                r = Login(self, extra).run("pi04", code("pi04"))
                self.assertEqual(r.status, "PAM_AUTH_ERR", r)
                self.assertEqual(r.prompts(), [])
                self.assertIn("token is disabled", r.shown())
                self.assertNotIn("Too many attempts", r.shown())
                self.assertIn("result=disabled", r.log)
        self.assertEqual(server.failcount(serial), 0)

    def test_a_token_pin_costs_a_fail_count_with_trigger_pass(self):
        serial = server.enrol("pi05", pin="4711")
        r = Login(self).run("pi05", code("pi05"))
        self.assertEqual(r.status, "PAM_AUTH_ERR", r)
        self.assertEqual(r.prompts(), [])
        self.assertIn("result=wrong_pin", r.log)
        self.assertIn("the token PIN is not trigger_pass", r.log)
        self.assertNotIn("result=rejected", r.log)
        self.assertEqual(server.failcount(serial), 1)  # what admin_user avoids
        right_pin = Login(self, 'trigger_pass = "4711"').run("pi05", code("pi05"))
        self.assertEqual(right_pin.status, "PAM_SUCCESS", right_pin)
        self.assertEqual(server.failcount(serial), 0)  # a success resets it

    def test_with_admin_user_a_token_pin_costs_nothing(self):
        serial = server.enrol("pi06", pin="4711")
        r = Login(self, admin_lines(), top="debug = true").run("pi06", code("pi06"))  # the debug log shows no secret either
        self.assertEqual(r.status, "PAM_SUCCESS", r)
        self.assertEqual(server.failcount(serial), 0)
        actions = [a["action"] for a in server.audit("pi06")]
        self.assertIn("POST /validate/triggerchallenge", actions)
        self.assertNotIn("wrong otp pin", json.dumps(server.audit("pi06")))
        self.assertIn("exchange POST", r.log)  # the debug lines are there
        self.assertNotIn(server.env["PI_ADMIN_PASSWORD"], r.log)
        # Twice more: a fresh administrator's token each login.
        for _ in range(2):
            self.assertEqual(Login(self, admin_lines()).run("pi06", code("pi06")).status, "PAM_SUCCESS")
        self.assertEqual(server.failcount(serial), 0)

    def test_wrong_admin_credentials_are_a_configuration_error(self):
        server.enrol("pi07")
        r = Login(self, 'admin_user = "admin"\nadmin_password = "not-it"\n').run("pi07", code("pi07"))
        self.assertEqual(r.status, "PAM_SERVICE_ERR", r)
        self.assertIn("result=config_error", r.log)
        self.assertIn("privacyIDEA refused admin_user and admin_password", r.log)

    def test_a_code_typed_after_the_challenge_expired_is_not_sent(self):
        serial = server.enrol("pi08")
        server.set_config(**{"sms.providerTimeout": "40"})
        try:
            r = Login(self).run("pi08", code("pi08", sleep=39), "", code("pi08"))
        finally:
            server.set_config(**{"sms.providerTimeout": "300"})
        self.assertEqual(r.status, "PAM_SUCCESS", r)
        self.assertIn("The code has expired. Press Enter to get a new one.", r.shown())
        self.assertIn("A new code was sent", r.shown())
        self.assertEqual(server.failcount(serial), 0)  # the late code never reached privacyIDEA
        self.assertFalse([a for a in server.audit("pi08") if "did not match" in a["info"]])

    def test_sms_and_email_tokens_both_get_the_code(self):
        server.enrol("pi09", "sms")
        server.enrol("pi09", "email")
        r = Login(self).run("pi09", mail_code("pi09"))
        self.assertEqual(r.status, "PAM_SUCCESS", r)
        self.assertIn("channel=sms+email", r.log)
        with open(server.env["PI_SMS_LOG"]) as f:
            self.assertIn(phone("pi09"), f.read())

    def test_a_code_goes_out_when_only_one_of_two_tokens_fails(self):
        """The SMS gateway fails, the e-mail goes out: privacyIDEA answers a
        CHALLENGE whose message says the SMS could not be sent. That is a
        code sent, never an outage (which failmode = "safe" would open)."""
        server.enrol("pi11", "sms")
        server.enrol("pi11", "email")
        broken = dict(GATEWAY, **{"option.URL": "http://127.0.0.1:9/sms"})
        server.call("POST", "/smsgateway", **broken)
        try:
            for extra in ("", admin_lines()):
                with self.subTest(admin=bool(extra)):
                    r = Login(self, extra, top='failmode = "safe"').run("pi11", mail_code("pi11"))
                    self.assertEqual(r.status, "PAM_SUCCESS", r)
                    self.assertIn("result=success", r.log)
                    self.assertNotIn("failopen", r.log)
        finally:
            server.call("POST", "/smsgateway", **dict(GATEWAY, **{"option.URL": server.sms_url}))

    def test_a_user_privacyidea_does_not_know_is_refused(self):
        r = Login(self).run("nopi", "123456")
        self.assertEqual(r.status, "PAM_AUTH_ERR", r)
        self.assertIn("HTTP 400", r.log)
        self.assertIn("result=rejected", r.log)

    def test_a_user_without_a_token_is_refused_both_ways(self):
        for extra in ("", admin_lines()):
            with self.subTest(admin=bool(extra)):
                r = Login(self, extra).run("pi10", "123456")
                self.assertEqual(r.status, "PAM_AUTH_ERR", r)
                self.assertIn("result=rejected", r.log)
                self.assertEqual(r.prompts(), [])


class Outages(unittest.TestCase):
    """Run after PrivacyIdea (load_tests): each takes a part of the server down for good."""

    def test_1_sms_gateway_down(self):
        serial = server.enrol("pi20")
        server.kill("sinks.pid")
        for extra in ("", admin_lines()):
            with self.subTest(admin=bool(extra)):
                r = Login(self, extra).run("pi20", code("pi20"))
                self.assertEqual(r.status, "PAM_AUTHINFO_UNAVAIL", r)
                self.assertIn("could not be sent", r.log)
                self.assertIn("result=unavailable", r.log)
                self.assertIn("The code service is unavailable.", r.shown())
                safe = Login(self, extra, top='failmode = "safe"').run("pi20", code("pi20"))
                self.assertEqual(safe.status, "PAM_SUCCESS", safe)  # pam_otp ignored, pam_permit
                self.assertIn("result=failopen", safe.log)
        self.assertEqual(server.failcount(serial), 0)

    def test_2_privacyidea_down(self):
        server.enrol("pi21")
        server.kill("pi.pid")
        time.sleep(0.5)
        r = Login(self).run("pi21", code("pi21"))
        self.assertEqual(r.status, "PAM_AUTHINFO_UNAVAIL", r)
        self.assertIn("result=unavailable", r.log)
        safe = Login(self, top='failmode = "safe"').run("pi21", code("pi21"))
        self.assertEqual(safe.status, "PAM_SUCCESS", safe)  # pam_otp ignored, pam_permit
        self.assertIn("result=failopen", safe.log)


def load_tests(loader, tests, pattern):
    suite = unittest.TestSuite()
    suite.addTests(loader.loadTestsFromTestCase(PrivacyIdea))
    suite.addTests(loader.loadTestsFromTestCase(Outages))
    return suite


if __name__ == "__main__":
    unittest.main()
