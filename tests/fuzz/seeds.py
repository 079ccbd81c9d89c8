#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora, tests/fuzz/corpus/<target>/.

    tests/fuzz/seeds.py        (re)writes every corpus from conf/ and the examples below

The seeds are checked in; run this again after changing conf/ or the input
encoding of fuzz_rules.cc or fuzz_flow.cc. Those two read their input through
libFuzzer's FuzzedDataProvider, which this file mirrors (class Fdp): numbers
come from the end of the input, most significant byte first; strings from the
front, each ended by a backslash and one other byte ("\\\\" is a backslash).
"""
import hashlib
import json
import pathlib
import re
import shutil

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = HERE / "corpus"


class Fdp:
    """Builds an input that FuzzedDataProvider reads back as the values given."""

    def __init__(self):
        self.front = bytearray()
        self.back = bytearray()  # in the order they are consumed

    def int(self, lo, hi, value):
        assert lo <= value <= hi, (lo, value, hi)
        span, offset, n = hi - lo, 0, 0
        while offset < 64 and (span >> offset) > 0:
            n += 1
            offset += 8
        self.back += (value - lo).to_bytes(n, "big")
        return self

    def bool(self, value):
        return self.int(0, 255, 1 if value else 0)

    def u32(self, value):
        return self.int(0, 2**32 - 1, value)

    def text(self, value, max_length=64):
        data = value.encode() if isinstance(value, str) else bytes(value)
        assert len(data) <= max_length
        # At max_length characters the reader stops by itself: no terminator.
        self.front += data.replace(b"\\", b"\\\\") + (b"\\;" if len(data) < max_length else b"")
        return self

    def rest(self, value):
        self.front += value.encode() if isinstance(value, str) else bytes(value)
        return self

    def bytes(self):
        return bytes(self.front) + bytes(reversed(self.back))


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    data = data.encode() if isinstance(data, str) else data
    (folder / name).write_bytes(data)


def reset(target):
    shutil.rmtree(CORPUS / target, ignore_errors=True)


# ---- fuzz_config: the example config, presets as configs, raw preset files ----

# Each preset's required keys: the one list in tests/support/presets (also read
# by the unit tests and the fuzzers). A new preset needs nothing here.
def minimal_tables():
    folder = ROOT / "tests/support/presets"
    return {f.stem: f.read_text() for f in sorted(folder.glob("*.toml"))}


# Optional keys some seeds add, so the corpus starts with them too.
OPTIONAL_KEYS = {
    "stytch": 'expiration_minutes = 5\n',
    "descope": 'management_key = "K2x"\n',
    "privacyidea": 'realm = "corp"\n',
    "baanx": 'email = "${user}@corp.example"\n',
}


def config_seeds():
    reset("fuzz_config")
    example = (ROOT / "conf/pam_otp.conf").read_text()
    write("fuzz_config", "example.conf", example)
    header = 'users_file = "/etc/security/pam_otp.users"\nprovider = "corp"\n'
    for preset, keys in minimal_tables().items():
        keys += OPTIONAL_KEYS.get(preset, "")
        write("fuzz_config", f"preset-{preset}.conf",
              f'{header}failmode = "safe"\n\n[provider.corp]\npreset = "{preset}"\n{keys}')
        write("fuzz_config", f"raw-{preset}.conf", (ROOT / f"conf/providers/{preset}.conf").read_text())
    # Stytch's live projects use another host (project-live-...).
    stytch = minimal_tables()["stytch"].replace("project-test-", "project-live-")
    write("fuzz_config", "preset-stytch-live.conf",
          f'{header}failmode = "safe"\n\n[provider.corp]\npreset = "stytch"\n{stytch}')
    write("fuzz_config", "settings.conf", header + """attempts = 5
resends = 0
code_pattern = "^[0-9]{6}$"
channel = "ask"
exempt_networks = ["10.0.0.0/8", "2001:db8::/32"]
exempt_services = ["cron"]
timeout = 5
connect_timeout = 2
pinned_public_key = "sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE="
[messages]
prompt = "Code for {destination}: "
wrong_code = "No, {attempts_left} left."
[provider.corp]
base_url = ["https://127.0.0.1:1", "https://localhost:2"]
auth = { scheme = "header", name = "X-Key", value = "${key}" }
key = "k"
channels = { sms = "text" }
[[provider.corp.send]]
url = "/send/${user}"
form = { to = "${destination}", ch = "${provider_channel}" }
when = { channel = { pattern = "^(sms|voice)$" } }
rules = [ { status = [200, 202], json_exists = ["/id"], outcome = "sent", retry_after = "header" } ]
[[provider.corp.verify]]
method = "PUT"
url = "/verify"
body = [ "${code}", { deep = "${id?}" } ]
rules = [ { status = "2xx", json_not = { "/ok" = false }, header = { "X-Ok" = "1" }, outcome = "accepted" } ]
""")
    # Regressions: toml++ 3.3.0 aborted on these (and is unsafe on the "é": see fuzz_config.cc).
    write("fuzz_config", "regression-table-header", header + "[\nprovider.corp]\n")
    write("fuzz_config", "regression-table-header-2", "[=\n[[[a]]]\n")
    write("fuzz_config", "regression-unicode", 'attempts = 3\u00e9\nr\ufef7 = 1\n')
    for i, arg in enumerate(["attempts=5", "failmode=safe", 'provider="corp"', "debug", "exempt_networks=[\"10.0.0.0/8\"]"]):
        write("fuzz_config", f"arg-{i}", arg)


# ---- fuzz_users_file ---------------------------------------------------------

def users_seeds():
    reset("fuzz_users_file")
    text = (ROOT / "conf/pam_otp.users").read_text()
    write("fuzz_users_file", "example.users", text)
    for i, line in enumerate(l for l in text.splitlines() if l and not l.startswith("#")):
        write("fuzz_users_file", f"line-{i}", line + "\n")
    write("fuzz_users_file", "quoted", 'dave user_id="user live 42" login_id="a\\"b\\\\c" channel=voice phone=+919876543210\n')
    write("fuzz_users_file", "errors", "erin phone=555\nerin email=x\n* email=${user}\n* phone=${user}\nfrank code=1\n")


# ---- fuzz_template -----------------------------------------------------------

def template_seeds():
    reset("fuzz_template")
    found = set()
    for conf in sorted((ROOT / "conf").rglob("*.conf")):
        found.update(re.findall(r'"([^"\n]*\$\{[^"\n]*)"', conf.read_text()))
    found.update([
        "$${user} is literal", "${missing:-fallback ${user}}", "id${user:+:${user}}",
        "${phone|country_code} ${phone|national}", "${user|upper|lower}", "${minutes|string}",
        "${nul}${quote}${backslash}${dollar}", "${object}", "${big|digits}",
        '{"a":"${user}","b":["${none?}",1,"${flag}"],"c":{"d":"$${x}"}}',
        "${destination|n|country_codeational}",  # regression: unknown filter when expanded
    ])
    for t in sorted(found):
        write("fuzz_template", hashlib.sha1(t.encode()).hexdigest()[:12], t)


# ---- fuzz_rules: provider answers from shared/providers.md ---------------------

RULES_HEADERS = ["retry-after", "Retry-After", "content-type", "x-request-id"]


def rules_input(status, body, headers=(), pointers=(), now=1700000000):
    f = Fdp().int(100, 599, status).int(0, 4, len(headers))
    for name, value in headers:
        if name in RULES_HEADERS:
            f.int(0, 4, RULES_HEADERS.index(name))
        else:
            f.int(0, 4, 4).text(name, 32)
        f.text(value, 256)
    f.int(0, 3, len(pointers))
    for p in pointers:
        f.text(p, 64)
    f.u32(now)
    f.rest(body if isinstance(body, str) else json.dumps(body))
    return f.bytes()


ANSWERS = {
    # Stytch
    "stytch-sent": (200, {"status_code": 200, "request_id": "request-id-1", "user_id": "user-1", "phone_id": "phone-number-1"}),
    "stytch-email-sent": (200, {"status_code": 200, "request_id": "r", "email_id": "email-1"}),
    "stytch-ok": (200, {"status_code": 200, "request_id": "r", "user_id": "u", "method_id": "m"}),
    "stytch-wrong": (404, {"status_code": 404, "error_type": "otp_code_not_found", "error_message": "Wrong code"}),
    "stytch-expired": (401, {"status_code": 401, "error_type": "unable_to_auth_otp_code", "error_message": "Expired"}),
    "stytch-rate": (429, {"status_code": 429, "error_type": "too_many_requests", "error_message": "Slow down"}),
    "stytch-locked": (401, {"error_type": "user_lock_limit_reached", "error_message": "Locked"}),
    "stytch-creds": (401, {"error_type": "unauthorized_credentials", "error_message": "Bad secret"}),
    "stytch-unknown": (404, {"error_type": "phone_number_not_found", "error_message": "No such phone"}),
    # Descope
    "descope-sent": (200, {"maskedPhone": "+*******4567"}),
    "descope-email": (200, {"maskedEmail": "a***@example.com"}),
    "descope-ok": (200, {"sessionJwt": "eyJ", "refreshJwt": "eyJ", "user": {"loginIds": ["a"]}}),
    "descope-wrong": (401, {"errorCode": "E061102", "errorDescription": "Wrong code"}),
    "descope-locked": (429, {"errorCode": "E061103", "errorDescription": "Too many attempts"}),
    "descope-unknown": (400, {"errorCode": "E062108", "errorDescription": "User not found"}),
    "descope-invalid": (400, {"errorCode": "E011003", "errorDescription": "Invalid request"}),
    # Twilio Verify
    "twilio-sent": (201, {"sid": "VE1", "status": "pending", "valid": False, "to": "+15551234567", "channel": "sms"}),
    "twilio-ok": (200, {"sid": "VE1", "status": "approved", "valid": True}),
    "twilio-wrong": (200, {"sid": "VE1", "status": "pending", "valid": False}),
    "twilio-expired": (404, {"code": 20404, "message": "The requested resource was not found", "status": 404}),
    "twilio-max-checks": (429, {"code": 60202, "message": "Max check attempts reached", "status": 429}),
    "twilio-max-sends": (429, {"code": 60203, "message": "Max send attempts reached", "status": 429}),
    "twilio-invalid": (400, {"code": 60200, "message": "Invalid parameter", "status": 400}),
    # privacyIDEA
    "pi-challenge": (200, {"result": {"status": True, "value": False, "authentication": "CHALLENGE"},
                           "detail": {"transaction_id": "0123", "message": "Please enter otp from your SMS",
                                      "multi_challenge": [{"transaction_id": "0123", "client_mode": "interactive"}]}}),
    "pi-accept": (200, {"result": {"status": True, "value": True, "authentication": "ACCEPT"}}),
    "pi-reject": (200, {"result": {"status": True, "value": False, "authentication": "REJECT"},
                        "detail": {"message": "wrong otp value"}}),
    "pi-failcounter": (200, {"result": {"status": True, "value": False, "authentication": "REJECT"},
                             "detail": {"message": "Failcounter exceeded"}}),
    "pi-unknown": (400, {"result": {"status": False, "error": {"code": 904, "message": "User not found"}}}),
    # BlockID
    "blockid-sent": (202, {"messageId": "5f1c", "info": "OTP request accepted"}),
    "blockid-ok": (200, {"error_code": 0, "message": "", "status": True}),
    "blockid-ok-string": (200, {"error_code": 0, "message": "", "status": "true"}),
    "blockid-wrong": (404, {"error_code": 404, "message": "Invalid OTP.", "status": False}),
    "blockid-locked": (403, {"error_code": 403, "message": "OTP request locked for the user.", "status": False}),
    "blockid-expired": (410, {"error_code": 410, "message": "OTP expired", "status": False}),
    # Baanx
    "baanx-login": (200, {"userId": "u-1", "isOtpRequired": True, "phoneNumber": "+1******4567", "accessToken": None}),
    "baanx-no-otp": (200, {"userId": "u-1", "isOtpRequired": False, "accessToken": "tok"}),
    "baanx-otp-sent": (200, {"success": True}),
    "baanx-wrong": (400, {"message": "Invalid OTP code"}),
    "baanx-client-key": (401, {"message": "Invalid client key"}),
    # The example's mock provider
    "mock-sent": (200, {"status": "sent", "transaction_id": "tx-1", "masked_to": "+1******4567", "request_id": "req-7"}),
    "mock-ok": (200, {"status": "approved", "request_id": "req-8"}),
    "mock-wrong": (422, {"error": "wrong_code", "attempts_left": 2}),
    "mock-locked": (423, {"error": "locked", "message": "Too many failed attempts", "retry_after": 840}),
    "mock-rate": (429, {"error": "rate_limited", "message": "Slow down", "retry_after": 1.5}),
    "mock-unknown": (404, {"error": "unknown_user", "message": "No such user"}),
}


def rules_seeds():
    reset("fuzz_rules")
    for name, (status, body) in ANSWERS.items():
        write("fuzz_rules", name, rules_input(status, body, pointers=["/message", "/result/status"]))
    write("fuzz_rules", "retry-after-seconds", rules_input(429, {"error": "rate_limited"}, [("Retry-After", "120")]))
    write("fuzz_rules", "retry-after-date",
          rules_input(423, {"error": "locked"}, [("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")], now=1445410000))
    write("fuzz_rules", "server-error", rules_input(503, "", [("x-request-id", "r-1")]))
    write("fuzz_rules", "not-json", rules_input(502, "<html>Bad gateway</html>"))
    write("fuzz_rules", "regression-huge-double-wait", rules_input(423, '{"error":"locked","retry_after":1e300}'))
    write("fuzz_rules", "regression-uint64-wait", rules_input(429, '{"retry_after":18446744073709551615}'))
    write("fuzz_rules", "pointers", rules_input(200, {"a": [{"b~/c": 1}]}, pointers=["/a/0/b~0~1c", "/a/01", "x"]))


# ---- fuzz_flow: whole logins (mirrors fuzz_flow.cc's reading order) ------------

class Flow(Fdp):
    VARIANTS = {"example": 0, "loose": 1}
    USERS = {"alice": 0, "carol": 1, "dave": 2, "nobody": 3}
    AUTHTOK = {"password": 0, "incorrect": 1, "empty": 2, "digits": 3, "none": 4}
    STATUSES = [200, 200, 200, 201, 401, 404, 410, 422, 423, 429, 500, 503]

    def __init__(self, variant="example", user="alice", authtok="password", silent=False):
        super().__init__()
        self.int(0, 1, self.VARIANTS[variant]).int(0, 3, self.USERS[user]).int(0, 4, self.AUTHTOK[authtok])
        if authtok == "incorrect":
            self.int(1, 40, 13)  # the marker's length
        self.bool(silent)

    def value(self, v):  # fuzz_value: ints 0-3600 (6), strings (3), null (4), bools (5)
        if v is None:
            return self.int(0, 6, 4)
        if isinstance(v, bool):
            return self.int(0, 6, 5).bool(v)
        if isinstance(v, int) and 0 <= v <= 3600:
            return self.int(0, 6, 6).int(0, 3600, v)
        if isinstance(v, int) and v >= 2**63:
            return self.int(0, 6, 1).int(0, 2**64 - 1, v)
        if isinstance(v, int):
            return self.int(0, 6, 0).int(-2**63, 2**63 - 1, v)
        return self.int(0, 6, 3).text(v)

    def failure(self, kind=0, error="Connection refused", elapsed=1):
        self.int(0, 255, elapsed).int(0, 15, 0).int(0, 6, kind).text(error)
        return self

    def answer(self, status=200, body_kind=1, *values, headers=(), elapsed=1):
        self.int(0, 255, elapsed).int(0, 15, 1)
        if status in self.STATUSES:
            self.int(0, 12, self.STATUSES.index(status))
        else:
            self.int(0, 12, 12).int(100, 599, status)
        self.int(0, 2, len(headers))
        for name, value in headers:
            if name in ("retry-after", "x-request-id"):
                self.int(0, 2, ("retry-after", "x-request-id").index(name))
            else:
                self.int(0, 2, 2).text(name, 16)
            self.text(value)
        self.int(0, 7, body_kind)
        if body_kind == 0:
            self.text(values[0], 512)
        elif body_kind == 5:
            self.int(0, 3, ["unknown_user", "unknown_transaction", "locked", "expired"].index(values[0]))
            self.value(values[1]).value(values[2])
        elif body_kind == 7:
            self.text(values[0], 16).value(values[1])
        else:
            for v in values:
                self.value(v)
        return self

    def sent(self, tx="tx-1", masked="+1******4567", request_id="req-7", elapsed=1):
        return self.answer(200, 2, tx, masked, request_id, elapsed=elapsed)

    def approved(self, request_id="req-8"):
        return self.answer(200, 3, request_id)

    def wrong(self):
        return self.answer(422, 4)

    def ask(self, kind, *args, wait=0):
        self.int(0, 64, wait).int(0, 9, kind)
        if kind in (2, 3, 6, 8):
            digits = args[-1]
            if kind == 6:
                self.int(0, 5, args[0])
            for d in digits:
                self.int(0, 9, int(d))
        elif kind == 4:
            self.text(args[0])
        elif kind == 5:
            self.int(257, 100000, args[0])
        elif kind == 7:
            self.int(0, 5, args[0])
        elif kind == 9:
            self.text(args[0], 16).text(args[1], 16)
        return self

    def code(self, digits="123456", wait=0):
        return self.ask(2, digits, wait=wait)


def flow_seeds():
    reset("fuzz_flow")
    seeds = {
        "success": Flow().sent().code().approved(),
        "wrong-then-right": Flow().sent().code("111111").wrong().code("123456").approved(),
        "attempts-exhausted": Flow().sent().code("111111").wrong().code("222222").wrong().code("333333").wrong(),
        "long-code-leak-check": Flow().sent().ask(3, "876543210").approved(),
        "padded-code": Flow().sent().ask(8, "12345678").approved(),
        "control-chars": Flow().sent().ask(6, 0, "123456").wrong().ask(6, 3, "123456").approved(),
        "not-a-code": Flow().sent().ask(4, "12ab").ask(5, 300).code().approved(),
        "eof": Flow().sent().ask(0),
        "resend-after-cooldown": Flow().sent().ask(1).ask(1, wait=31).sent("tx-2").code().approved(),
        "expired": Flow().sent().code().answer(410, 1).ask(1, wait=40).sent().code().approved(),
        "locked-at-send": Flow().answer(423, 5, "locked", "Too many failed attempts", 840),
        "locked-header": Flow().answer(423, 5, "locked", None, None, headers=[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]),
        "rate-limited-at-verify": Flow().sent().code().answer(429, 5, "locked", "Slow down", 2**62),
        "unknown-user": Flow().answer(404, 5, "unknown_user", "No such user", None),
        "config-error": Flow().answer(401, 6, "nope"),
        "down": Flow().failure(),
        "retry-5xx": Flow().answer(503, 1),
        "not-json": Flow().answer(200, 0, "<html>"),
        "deadline": Flow().sent(elapsed=200).code().answer(200, 3, "r", elapsed=200),
        "incorrect-marker": Flow(authtok="incorrect"),
        "unknown-unix-user": Flow(user="nobody"),
        "wildcard-user": Flow(user="dave"),
        "carol-menu": Flow(user="carol").ask(7, 2).sent().code().approved(),
        "carol-bad-menu": Flow(user="carol").ask(7, 0).ask(7, 5).ask(7, 1).sent().code().approved(),
        "loose-failopen": Flow("loose").ask(7, 1).failure(2, "timed out"),
        "loose-canary": Flow("loose", silent=True).ask(7, 1).sent().ask(9, '"},"x":"${code}', "\\").wrong()
                         .ask(9, "", "").approved(),
        "loose-resends": Flow("loose").ask(7, 1).sent().ask(1).sent().ask(1).sent().code().approved(),
        # Inputs of bugs found by fuzzing, kept as seeds.
        "regression-expired-costs-an-attempt": Flow().sent().code("111111").wrong().code("222222").wrong()
                                                .code("333333").answer(410, 1).code("444444").approved(),
        "regression-wait-past-int64": Flow().answer(423, 5, "locked", "Locked", 2**64 - 1),
        "regression-wait-int64-max": Flow().sent().code().answer(429, 5, "locked", "Slow", 2**63 - 1),
    }
    for name, flow in seeds.items():
        write("fuzz_flow", name, flow.bytes())


if __name__ == "__main__":
    config_seeds()
    users_seeds()
    template_seeds()
    rules_seeds()
    flow_seeds()
    for target in sorted(p.name for p in CORPUS.iterdir()):
        print(f"{target}: {len(list((CORPUS / target).iterdir()))} seeds")
