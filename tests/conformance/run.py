#!/usr/bin/env python3
"""Conformance of pam_otp's presets with the providers' official SDKs (issue #14).

    python3 tests/conformance/run.py --pam-otp build/default/src/pam-otp

1. Installs the pinned SDKs (npm ci in sdk/) when node_modules is missing or
   does not match sdk/package-lock.json.
2. Requests: for each provider, variant and channel, the SDK's send + verify
   (sdk/capture.js) and `pam-otp test` with the preset against the capture
   server (sdk/server.js) are compared request by request: method, path,
   query, auth scheme and credentials, media type, headers, body fields. The
   host the SDK picks by itself is compared with the base_url the preset
   resolves to when none is given. Differences not in allowlist.json fail.
3. Errors: each answer of expected_outcomes.json is served to the send or the
   verify of a `pam-otp test` login; the exchange's outcome and the final PAM
   code must be the expected ones. Every error sdk/errors.js names must be
   covered by a case or listed under not_replayed.

Exit status: 0 pass, 1 fail, 77 skipped (node, or npm when an install is
needed, is missing, or the npm registry cannot be reached). In CI (CI=true,
which .ci/run sets) or with PAM_OTP_REQUIRE_CONFORMANCE=1 a run that cannot
install or start the SDKs fails (exit 1) instead: there it must run. Standard library only; nothing outside a
temporary directory is written, and no network is used except by npm ci.
"""
import argparse
import base64
import errno
import json
import os
import pwd
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

try:
    import tomllib  # Python 3.11+ (Debian 12)
except ImportError:  # pragma: no cover
    tomllib = None

HERE = Path(__file__).resolve().parent
SDK = HERE / "sdk"
INPUTS = json.loads((SDK / "inputs.json").read_text())
CODE = INPUTS["code"]

# pam-otp test runs with attempts = 1 and resends = 0, so the first answer
# decides, and each outcome ends the login with one PAM code
# (src/flow/session.cc: on_code, on_failure, lockout, unavailable).
# What the exchange's log line says beyond a rule's outcome: a rule said
# "retry" (transient), no rule matched, the body was not JSON, or no HTTP
# answer came at all. Each is a different finding about a preset, though all
# leave the service unavailable.
PAM_CODE = {
    "wrong_code": "PAM_MAXTRIES", "expired": "PAM_AUTH_ERR", "locked": "PAM_MAXTRIES",
    "rate_limited": "PAM_MAXTRIES", "unknown_user": "PAM_AUTH_ERR", "config_error": "PAM_SERVICE_ERR",
    "retry": "PAM_AUTHINFO_UNAVAIL", "no_rule": "PAM_AUTHINFO_UNAVAIL", "not_json": "PAM_AUTHINFO_UNAVAIL",
    "unavailable": "PAM_AUTHINFO_UNAVAIL",
}


def must_run():
    """In CI the suite may not skip: it fails where it cannot run."""
    return os.environ.get("CI", "").lower() in ("true", "1") or os.environ.get("PAM_OTP_REQUIRE_CONFORMANCE") == "1"

_STY = INPUTS["stytch"]
_DSC = INPUTS["descope"]
_TWI = INPUTS["twilio_verify"]
# (provider, capture.js variant, the pam_otp provider keys that mean the same)
VARIANTS = [
    ("stytch", "minimal", dict(_STY)),
    ("stytch", "options", dict(_STY, expiration_minutes=5, locale="en")),
    ("descope", "project_id", {"project_id": _DSC["project_id"]}),
    # pam_otp's management_key is the SDK's authManagementKey (sdk/README.md, finding 2)
    ("descope", "auth_management_key", {"project_id": _DSC["project_id"], "management_key": _DSC["key"]}),
    ("descope", "region_35", {"project_id": _DSC["region_projects"]["region_35"]}),
    ("descope", "region_32", {"project_id": _DSC["region_projects"]["region_32"]}),
    ("twilio_verify", "verification_sid", dict(_TWI)),
]
NOT_COMPARED = {
    ("descope", "management_key"): "the SDK's managementKey is only for management calls (GET /v1/mgmt/license); "
                                   "pam_otp makes none, its management_key is compared as auth_management_key",
}
ERROR_KEYS = {"stytch": dict(_STY), "descope": {"project_id": _DSC["project_id"]}, "twilio_verify": dict(_TWI)}
SKIP_ERROR_KINDS = {"error_type_declaration"}  # errors.js's note that error_type is a string, not an error


class Failure(Exception):
    """A setup problem that stops the run (exit 1)."""


def say(text=""):
    print(text, flush=True)


def run(cmd, timeout, **kw):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        raise Failure(f"timed out after {timeout} s: {' '.join(map(str, cmd))}")


def load_json(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise Failure(f"{path}: {e}")


def show(value):
    return "(absent)" if value is MISSING else json.dumps(value, ensure_ascii=False)


MISSING = object()


# ---------------------------------------------------------------- SDKs
def install_problem():
    """Why node_modules does not match package-lock.json, or None."""
    lock = json.loads((SDK / "package-lock.json").read_text())
    for key, meta in lock.get("packages", {}).items():
        if not key or meta.get("dev"):
            continue
        manifest = SDK / key / "package.json"
        if not manifest.exists():
            if meta.get("optional"):
                continue
            return f"{key} is missing"
        version = json.loads(manifest.read_text()).get("version")
        if version != meta.get("version"):
            return f"{key} is {version}, package-lock.json says {meta.get('version')}"
    return None


# npm's error codes for "no network" and "an unknown CA answered" (an
# HTTPS-inspecting proxy whose CA this machine does not trust).
REGISTRY_UNREACHABLE = ("SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
                        "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "DEPTH_ZERO_SELF_SIGNED_CERT", "ENOTFOUND",
                        "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH")


def prepare_sdks():
    """Returns the node executable, or None (and says why) to skip."""
    node = shutil.which("node")
    if not node:
        say("SKIP: node is not installed (Debian: apt-get install nodejs npm)")
        return None
    problem = install_problem()
    if problem:
        npm = shutil.which("npm")
        if not npm:
            say(f"SKIP: npm is not installed and the SDKs need installing ({problem}) (Debian: apt-get install npm)")
            return None
        cmd = [npm, "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"]
        say(f"== installing the SDKs ({problem}): cd {SDK} && npm {' '.join(cmd[1:])}")
        # Node trusts its own copy of Mozilla's CAs, not the system's: a CA
        # the machine added (an HTTPS-inspecting proxy's) is then unknown to
        # npm. Trust the system store too, as curl and apt do.
        env = dict(os.environ)
        system_store = "/etc/ssl/certs/ca-certificates.crt"
        if "NODE_EXTRA_CA_CERTS" not in env and os.path.exists(system_store):
            env["NODE_EXTRA_CA_CERTS"] = system_store
        r = run(cmd, timeout=900, cwd=SDK, env=env)
        unreachable = next((c for c in REGISTRY_UNREACHABLE if c in r.stdout + r.stderr), None)
        if r.returncode != 0 and unreachable:
            say(f"SKIP: the npm registry cannot be reached from this machine ({unreachable}), so the SDKs cannot "
                "be installed. Where https://registry.npmjs.org is reachable (behind an HTTPS-inspecting proxy: "
                "with its CA in the system store or NODE_EXTRA_CA_CERTS), this test runs.")
            return None
        if r.returncode != 0:
            raise Failure(f"npm ci failed (exit {r.returncode}):\n{r.stdout}{r.stderr}")
        problem = install_problem()
        if problem:
            raise Failure(f"after npm ci, node_modules still does not match the lock file: {problem}")
    else:
        say("== SDKs: node_modules matches package-lock.json")
    version = run([node, "--version"], timeout=30).stdout.strip()
    say(f"   node {version} ({node})")
    return node


def node_json_lines(node, script, provider):
    r = run([node, script, provider], timeout=300, cwd=SDK)
    if r.returncode != 0:
        raise Failure(f"node {script} {provider} failed (exit {r.returncode}):\n{r.stderr}")
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


# ------------------------------------------------------------- pam-otp
class PamOtp:
    def __init__(self, path):
        self.path = str(Path(path).resolve())
        self.env = {k: v for k, v in os.environ.items() if not re.match(r"(?i)^(https?|all|no)_proxy$", k)}

    def run(self, args, stdin="", timeout=60):
        """Output (stdout + stderr) and exit status; retries while the binary is being rebuilt."""
        for _ in range(120):
            if os.access(self.path, os.X_OK):
                try:
                    r = subprocess.run([self.path] + args, input=stdin, capture_output=True, text=True,
                                       timeout=timeout, env=self.env)
                    return r.stdout + r.stderr, r.returncode
                except subprocess.TimeoutExpired:
                    raise Failure(f"pam-otp {' '.join(args)} timed out after {timeout} s")
                except OSError as e:
                    if e.errno not in (errno.ENOENT, errno.ETXTBSY, errno.EACCES, errno.ENOEXEC):
                        raise
            time.sleep(1)
        raise Failure(f"{self.path} is missing or not executable (waited 2 minutes)")


# ------------------------------------------------------ capture server
class Workspace:
    """A temporary directory with the users file, configs and the capture server."""

    def __init__(self, node):
        self.dir = Path(tempfile.mkdtemp(prefix="pam-otp-conformance-"))
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.users = self.dir / "users"
        self.users.write_text(f"{self.user} phone={INPUTS['phone']} email={INPUTS['email']}\n")
        self.users.chmod(0o644)
        self.count = 0
        srv = self.dir / "server"
        srv.mkdir()
        self.ca = srv / "cert.pem"
        self.log = open(self.dir / "server.log", "w")
        env = {k: v for k, v in os.environ.items() if not re.match(r"(?i)^(https?|all|no)_proxy$", k)}
        self.proc = subprocess.Popen([node, str(SDK / "server.js"), "--serve", str(srv)], stdin=subprocess.PIPE,
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=SDK)
        port_file = srv / "port"
        for _ in range(300):
            if port_file.exists() or self.proc.poll() is not None:
                break
            time.sleep(0.1)
        if not port_file.exists():
            raise Failure(f"the capture server did not start:\n{(self.dir / 'server.log').read_text()}")
        self.origin = f"https://127.0.0.1:{port_file.read_text().strip()}"
        self.tls = ssl.create_default_context(cafile=str(self.ca))

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _call(self, method, path, payload=None):
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(self.origin + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, context=self.tls, timeout=10) as answer:
            return json.loads(answer.read())

    def start_login(self, provider, variant, channel, answer_step=None, answer=None):
        self._call("POST", "/__capture/ctx", {"provider": provider, "variant": variant, "channel": channel})
        if answer_step:
            self._call("POST", "/__capture/next", dict(answer, step=answer_step))

    def records(self):
        return self._call("GET", "/__capture/records")

    def config(self, provider, keys, base_url=True):
        """A config file for PROVIDER's preset with KEYS (base_url: the capture server's, or none)."""
        self.count += 1
        # The local state in our directory (never /var/lib), without the send
        # limit: every case sends a code for the same user.
        lines = [f"users_file = {toml(str(self.users))}", f"ca_file = {toml(str(self.ca))}",
                 f"state_file = {toml(str(self.dir / 'state' / 'state.db'))}", "send_limit = {}",
                 "attempts = 1", "resends = 0", "timeout = 10", "connect_timeout = 5",
                 "", "[provider.corp]", f"preset = {toml(provider)}"]
        if base_url:
            lines.append(f"base_url = {toml(self.origin)}")
        lines += [f"{k} = {toml(v)}" for k, v in keys.items()]
        path = self.dir / f"pam_otp.{self.count}.conf"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        return str(path)


def toml(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))  # a TOML basic string


# ------------------------------------------------------------ compare
def auth_parts(value):
    """Authorization header -> {auth:scheme, auth:user/password or auth:token}."""
    if value is None:
        return {"auth:scheme": "(none)"}
    scheme, _, cred = value.partition(" ")
    parts = {"auth:scheme": scheme.lower()}
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(cred, validate=True).decode().partition(":")
            parts.update({"auth:user": user, "auth:password": password})
        except ValueError:
            parts["auth:credentials"] = cred
    elif scheme.lower() == "bearer":
        parts["auth:token"] = cred
    else:
        parts["auth:credentials"] = cred
    return parts


def fields(rec):
    """The compared fields of one request record, flattened: name -> value."""
    out = {"method": rec["method"], "path": rec["path"]}
    out.update({f"query:{k}": v for k, v in (rec.get("query") or {}).items()})
    headers = rec.get("headers") or {}
    out.update(auth_parts(headers.get("authorization")))
    ctype = rec.get("content_type")
    out["content_type"] = ctype.split(";")[0].strip().lower() if ctype else "(none)"
    out.update({f"header:{k}": v for k, v in headers.items() if k not in ("authorization", "content-type")})
    body = rec.get("body")
    if isinstance(body, dict):
        out.update({f"body:{k}": v for k, v in body.items()})
    elif body is not None:
        out["body"] = body
    return out


def compare(sdk_recs, pam_recs):
    """Differences [(step, field, sdk value, pam value)], request by request."""
    diffs = []
    if len(sdk_recs) != len(pam_recs):
        diffs.append(("*", "requests", [r["step"] for r in sdk_recs], [r["step"] for r in pam_recs]))
    for sdk, pam in zip(sdk_recs, pam_recs):
        step = sdk["step"]
        if pam["step"] != step:
            diffs.append((step, "step", step, pam["step"]))
        a, b = fields(sdk), fields(pam)
        for name in sorted(set(a) | set(b)):
            va, vb = a.get(name, MISSING), b.get(name, MISSING)
            if va is MISSING or vb is MISSING or va != vb or type(va) is not type(vb):
                diffs.append((step, name, va, vb))
    return diffs


class AllowList:
    def __init__(self, path):
        self.entries = load_json(path).get("entries", [])
        for i, e in enumerate(self.entries):
            if not all(isinstance(e.get(k), str) and e[k].strip() for k in ("provider", "field", "reason")):
                raise Failure(f"{path.name}: entry {i + 1} needs provider, field and a reason")
        self.used = set()

    def reason(self, provider, variant, channel, step, field, sdk_value):
        for i, e in enumerate(self.entries):
            if (e["provider"] == provider and e["field"] == field
                    and e.get("step", step) == step and e.get("variant", variant) == variant
                    and e.get("channel", channel) == channel
                    and ("sdk_value" not in e or (sdk_value is not MISSING and e["sdk_value"] == sdk_value))):
                self.used.add(i)
                return e["reason"]
        return None


# ------------------------------------------------------- requests part
def preset_channels(pam, config):
    """The channels the preset has, from `pam-otp show` (None if unreadable)."""
    out, status = pam.run(["show", "--config", config])
    if status != 0 or tomllib is None:
        return None
    try:
        channels = tomllib.loads(out)["provider"]["corp"]["channels"]
    except (tomllib.TOMLDecodeError, KeyError, TypeError):
        return None
    return list(channels)


def resolved_base_url(pam, ws, provider, keys, channel):
    """The base_url pam_otp resolves without one in the config (`test --explain`)."""
    config = ws.config(provider, keys, base_url=False)
    out, _ = pam.run(["test", ws.user, "--explain", "--config", config, "--channel", channel])
    m = re.search(r"^base_url:\s+(\S.*)$", out, re.M)
    return m.group(1).strip().rstrip("/") if m else f"(none: {out.strip().splitlines()[-1] if out.strip() else 'no output'})"


def login_result(out):
    found = re.findall(r"result: (PAM_\w+)", out)
    return found[-1] if found else "(no result line)"


def compare_requests(node, pam, ws, allow):
    rows, details = [], []
    sdk_by_provider = {}
    for provider, variant, keys in VARIANTS:
        if provider not in sdk_by_provider:
            say(f"== {provider}: the SDK's requests (node sdk/capture.js {provider})")
            sdk_by_provider[provider] = node_json_lines(node, "capture.js", provider)
            for v in sorted({r["variant"] for r in sdk_by_provider[provider]}):
                if (provider, v) in NOT_COMPARED:
                    say(f"   not compared: variant {v}: {NOT_COMPARED[(provider, v)]}")
        sdk = [r for r in sdk_by_provider[provider] if r["variant"] == variant and r["step"] in ("send", "verify")]
        sdk_channels = list(dict.fromkeys(r["channel"] for r in sdk))
        has = preset_channels(pam, ws.config(provider, keys))
        if has is None:
            say(f"   {provider}: could not read the preset's channels from `pam-otp show`; trying the SDK's")
            has = sdk_channels
        channels = [c for c in sdk_channels if c in has]

        def judge(label, step, field, va, vb, channel):
            reason = allow.reason(provider, variant, channel, step, field, va)
            details.append((label, step, field, va, vb, reason))
            return reason is not None

        # A channel the SDK has and the preset lacks fails, unless the
        # allow-list says why (field "channel").
        for c in sdk_channels:
            if c not in has:
                label = f"{provider} {variant} {c} (channel)"
                say(f"-- {label}")
                allowed = judge(label, "config", "channel", c, MISSING, c)
                rows.append((label, "-", int(allowed), int(not allowed)))

        # The host the SDK picks by itself vs the base_url the preset resolves to.
        sdk_hosts = sorted({r["sdk_base_url"] for r in sdk if r.get("sdk_base_url")})
        if sdk_hosts and channels:
            label = f"{provider} {variant} (host)"
            say(f"-- {label}")
            mine = resolved_base_url(pam, ws, provider, keys, channels[0])
            theirs = sdk_hosts[0] if len(sdk_hosts) == 1 else sdk_hosts
            allowed = failing = 0
            if mine != theirs:
                if judge(label, "config", "host", theirs, mine, None):
                    allowed += 1
                else:
                    failing += 1
            rows.append((label, "-", allowed, failing))

        for channel in channels:
            label = f"{provider} {variant} {channel}"
            say(f"-- {label}")
            ws.start_login(provider, variant, channel)
            out, _ = pam.run(["test", ws.user, "--config", ws.config(provider, keys), "--channel", channel],
                             stdin=CODE + "\n")
            mine = ws.records()
            theirs = [r for r in sdk if r["channel"] == channel]
            diffs = compare(theirs, mine)
            result = login_result(out)
            if result != "PAM_SUCCESS":
                diffs.append(("*", "result", "PAM_SUCCESS (the SDK's login succeeded)", f"{result}: {last_exchange(out)}"))
            allowed = sum(judge(label, step, f, va, vb, channel) for step, f, va, vb in diffs)
            rows.append((label, str(len(mine)), allowed, len(diffs) - allowed))
    return rows, details


def last_exchange(out):
    lines = [l.strip() for l in out.splitlines() if "exchange " in l]
    return lines[-1] if lines else out.strip().splitlines()[-1] if out.strip() else "no output"


# --------------------------------------------------------- errors part
def error_key(rec):
    name = rec.get("code") if rec.get("code") is not None else rec.get("name")
    return f"{rec['provider']}:{rec['kind']}:{name}"


def covered(key, covers):
    return any(key == c or (c.endswith("*") and key.startswith(c[:-1])) for c in covers)


def exchange_outcome(line):
    """The outcome on an exchange's log line (src/provider/client.cc):
    'HTTP 404 -> wrong_code (rule at ...)' -> wrong_code; 'HTTP 503 is
    transient (rule at ...)' -> retry; 'HTTP 200 matched no rule' -> no_rule;
    'HTTP 503 with a body that is not valid JSON' -> not_json; no HTTP
    answer (connect, timeout, TLS) -> unavailable."""
    m = re.search(r"HTTP \d+ -> (\w+)", line)
    if m:
        return m.group(1)
    for pattern, outcome in ((r"HTTP \d+ is transient \(rule at", "retry"), (r"HTTP \d+ matched no rule", "no_rule"),
                             (r"HTTP \d+ with a body that is not valid JSON", "not_json")):
        if re.search(pattern, line):
            return outcome
    return "unavailable"


def conversation(out):
    """What the user of `pam-otp test` is shown: its output without the log
    lines ('  log(LEVEL): ...') and the final 'result:' line."""
    return "\n".join(l for l in out.splitlines() if not l.startswith("  log(") and not l.startswith("result: "))


def replay_errors(node, pam, ws, expected):
    rows, details = [], []
    cases, not_replayed = expected["cases"], expected.get("not_replayed", [])
    all_covers = [c for case in cases for c in case.get("covers", [])] + [n["covers"] for n in not_replayed]
    for provider in ERROR_KEYS:
        say(f"== {provider}: the errors the SDK names (node sdk/errors.js {provider})")
        for rec in node_json_lines(node, "errors.js", provider):
            if rec["kind"] in SKIP_ERROR_KINDS:
                continue
            key = error_key(rec)
            if not covered(key, all_covers):
                rows.append((f"errors.js {key}", "-", "a case", "none in expected_outcomes.json", "FAIL"))
                details.append((f"errors.js {key}", f"sdk/errors.js names it ({rec.get('source')}) but "
                                "expected_outcomes.json has no case covering it and no not_replayed entry"))
    for case in cases:
        if case["expected"] not in PAM_CODE:
            raise Failure(f"expected_outcomes.json: {case['id']}: unknown outcome {case['expected']}")
        provider, step, channel = case["provider"], case["step"], case.get("channel", "sms")
        say(f"-- {case['id']} ({step})")
        ws.start_login(provider, "error", channel, step, case["answer"])
        out, _ = pam.run(["test", ws.user, "--config", ws.config(provider, ERROR_KEYS[provider]), "--channel", channel],
                         stdin=CODE + "\n")
        exchanges = [l.strip() for l in out.splitlines() if "log(debug): exchange " in l]
        index = 0 if step == "send" else 1
        result = login_result(out)
        problems = []
        if len(exchanges) > index:
            outcome = exchange_outcome(exchanges[index])
            got = f"{outcome} / {result}"
            if outcome != case["expected"]:
                problems.append(f"outcome {outcome}, expected {case['expected']}")
            elif result != PAM_CODE[outcome]:
                problems.append(f"PAM code {result}, expected {PAM_CODE[outcome]} for {outcome}")
        else:
            got = f"no {step} exchange / {result}"
            problems.append(f"the login never reached the {step}")
        shown = conversation(out)
        for text in case.get("shown", []):
            if text not in shown:
                problems.append(f"the user is not shown {text!r}")
                got += " (reason not shown)"
        for text in case.get("not_shown", []):
            if text in shown:
                problems.append(f"the user is shown {text!r}, which must not be shown")
                got += " (wrong reason shown)"
        rows.append((case["id"], step, case["expected"], got, "FAIL" if problems else "ok"))
        if problems:
            details.append((case["id"], "; ".join(problems) + "\n        " + "\n        ".join(exchanges or [out.strip()])
                            + f"\n        source: {case['source']}"))
    return rows, details


# -------------------------------------------------------------- output
def table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()
    say(line(header))
    say(line(["-" * w for w in widths]))
    for r in rows:
        say(line(r))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pam-otp", required=True, help="the built pam-otp binary")
    args = parser.parse_args()

    node = prepare_sdks()
    if node is None:
        if must_run():
            say("FAIL: in CI (CI=true, or PAM_OTP_REQUIRE_CONFORMANCE=1) the conformance test must run, and it "
                "could not (see above)")
            return 1
        return 77
    pam = PamOtp(args.pam_otp)
    allow = AllowList(HERE / "allowlist.json")
    expected = load_json(HERE / "expected_outcomes.json")
    ws = Workspace(node)
    try:
        say(f"== capture server {ws.origin}; pam-otp test runs as user {ws.user}")
        req_rows, req_details = compare_requests(node, pam, ws, allow)
        err_rows, err_details = replay_errors(node, pam, ws, expected)
    finally:
        ws.close()

    say("\n== Requests: SDK vs pam_otp (differences: allowed by allowlist.json / failing)")
    table(("comparison", "requests", "allowed", "failing", ""),
          [(l, n, a, f, "FAIL" if f else "ok") for l, n, a, f in req_rows])
    failing = [d for d in req_details if d[5] is None]
    if failing:
        say("\nFailing differences (fix pam_otp, or add an entry with a reason to allowlist.json):")
        for label, step, field, va, vb, _ in failing:
            say(f"  FAIL {label} [{step}] {field}: SDK {show(va)}  pam_otp {show(vb)}")
    allowed = {}
    for label, step, field, va, vb, reason in req_details:
        if reason is not None:
            allowed.setdefault((label.split()[0], field, reason), []).append(label)
    if allowed:
        say("\nAllowed differences:")
        for (provider, field, reason), labels in sorted(allowed.items()):
            say(f"  {provider} {field} ({len(labels)}x): {reason}")
    unused = [e for i, e in enumerate(allow.entries) if i not in allow.used]
    for e in unused:
        say(f"  note: allow-list entry not used: {e['provider']} {e['field']}")

    say("\n== Error answers replayed through each preset")
    table(("case", "step", "expected", "got (outcome / PAM code)", ""), err_rows)
    if err_details:
        say("\nFailing cases:")
        for case_id, text in err_details:
            say(f"  FAIL {case_id}: {text}")

    n_req = sum(1 for r in req_rows if r[3])
    n_err = sum(1 for r in err_rows if r[4] == "FAIL")
    say(f"\n{'FAIL' if n_req or n_err else 'PASS'}: {n_req} of {len(req_rows)} request comparisons and "
        f"{n_err} of {len(err_rows)} error cases fail")
    return 1 if n_req or n_err else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        say(f"FAIL: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(1)
