"""End-to-end test support: real sshd, sudo, su and login stacks using the
recipes of conf/ (paths substituted), the bundled mock provider, and
temporary users. Everything created is removed afterwards; the only system
file changed (/etc/pam.d/su, which su cannot be pointed away from) is
restored, even after a crash, from a backup kept in /var/tmp.

Needs root (CI runs as root); otherwise every test is skipped with a reason.
"""

import contextlib
import json
import os
import pty
import pwd
import secrets
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from otp_mock import MockProcess  # noqa: E402

BUILD = os.environ.get("PAM_OTP_BUILD_DIR", "")
SOURCE = os.environ.get("PAM_OTP_SOURCE_DIR", "")
MODULE = os.path.join(BUILD, "src", "pam_otp.so")
MOCK = os.path.join(BUILD, "tests", "mock_provider", "otp-mock")
CLI = os.path.join(BUILD, "src", "pam-otp")
MULTIARCH = subprocess.run(["gcc", "-print-multiarch"], capture_output=True, text=True).stdout.strip() or "x86_64-linux-gnu"
PAM_WRAPPER = f"/usr/lib/{MULTIARCH}/libpam_wrapper.so"
SU_BACKUP = "/var/tmp/pam_otp_e2e.su.orig"


def require_root():
    if os.geteuid() != 0:
        raise unittest.SkipTest("end-to-end tests need root to run sshd, create users and install PAM "
                                "services (CI runs them as root)")
    for tool in ("/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/sudo", "/usr/bin/pamtester"):
        if not os.path.exists(tool):
            raise unittest.SkipTest(f"{tool} is missing (scripts/test installs it)")


def recipe(name, config_path):
    """conf/pam.d/NAME with pam_otp.so replaced by the built module and its config."""
    with open(os.path.join(SOURCE, "conf", "pam.d", name)) as f:
        text = f.read()
    assert "pam_otp.so" in text
    return text.replace("pam_otp.so", f"{MODULE} config={config_path}")


def sshd_recipe(name):
    with open(os.path.join(SOURCE, "conf", "sshd_config.d", name)) as f:
        return f.read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mock(MockProcess):
    """The bundled mock provider (otp-mock) and its /mock/ control API."""

    def __init__(self, workdir):
        super().__init__(MOCK, os.path.join(workdir, "pki"))

    def call(self, method, path, body=None):
        data = json.dumps(body if body is not None else {}).encode() if method != "GET" else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(request, context=self.context, timeout=10) as response:
            return response.read().decode()

    def reset(self, **settings):
        self.call("POST", "/mock/reset")
        self.call("DELETE", "/mock/fault")
        defaults = {"max_failures": 5, "lock_seconds": 900, "max_sends": 5}
        defaults.update(settings)
        self.call("POST", "/mock/settings", defaults)

    def outbox(self):
        return json.loads(self.call("GET", "/mock/outbox"))

    def requests(self):
        return json.loads(self.call("GET", "/mock/requests"))

    def last_code(self, to):
        try:
            return self.call("GET", "/mock/last_code?to=" + urllib.request.quote(to)).strip()
        except urllib.error.HTTPError:
            return None

class User:
    """A temporary local user with a password and a phone number."""

    def __init__(self, phone):
        self.name = "otpe2e" + secrets.token_hex(3)
        self.password = "pw-" + secrets.token_hex(8)
        self.phone = phone
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", "--user-group", self.name], check=True)
        subprocess.run(["chpasswd"], input=f"{self.name}:{self.password}\n", text=True, check=True)
        self.uid = pwd.getpwnam(self.name).pw_uid

    def remove(self):
        subprocess.run(["pkill", "-KILL", "-u", self.name], capture_output=True)
        subprocess.run(["userdel", "--remove", self.name], capture_output=True)


class ExistingUser:
    """An account of the machine (root) given a phone number for a test; never changed."""

    def __init__(self, name, phone):
        self.name = name
        self.phone = phone
        self.password = None
        self.uid = pwd.getpwnam(name).pw_uid


def write_config(workdir, mock, users, top=""):
    """pam_otp.conf (the shipped example's provider table) and its users file."""
    users_path = os.path.join(workdir, "pam_otp.users")
    with open(users_path, "w") as f:
        f.write("".join(f"{u.name} phone={u.phone}\n" for u in users))
    os.chmod(users_path, 0o644)
    with open(os.path.join(SOURCE, "conf", "pam_otp.conf")) as f:
        example = f.read()
    provider = example[example.index("\n[provider.mock]"):].replace("https://127.0.0.1:8443", mock.url)
    config = os.path.join(workdir, "pam_otp.conf")
    with open(config, "w") as f:
        # The local state in the test's directory, never /var/lib.
        state = os.path.join(workdir, "state", "state.db")
        f.write(f'users_file = "{users_path}"\nca_file = "{mock.ca}"\nstate_file = "{state}"\n{top}\n{provider}')
    os.chmod(config, 0o600)
    return config


class Sshd:
    """An sshd of our own on 127.0.0.1, its PAM service redirected by pam_wrapper."""

    def __init__(self, workdir, pam_service_text, sshd_recipe_text, permit_root_login="no"):
        self.dir = tempfile.mkdtemp(prefix="sshd.", dir=workdir)
        os.chmod(self.dir, 0o755)  # sshd reads AuthorizedKeysFile as the user
        services = self.services = os.path.join(self.dir, "services")
        os.mkdir(services)
        with open(os.path.join(services, "sshd"), "w") as f:
            f.write(pam_service_text)
        for name in os.listdir("/etc/pam.d"):  # the stock files the recipe @includes
            if name.startswith("common-") or name == "other":
                shutil.copy(os.path.join("/etc/pam.d", name), services)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(self.dir, "hostkey")], check=True)
        self.port = free_port()
        with open(os.path.join(self.dir, "sshd_config"), "w") as f:
            f.write(f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.dir}/hostkey\n"
                    f"PidFile {self.dir}/sshd.pid\nAuthorizedKeysFile {self.dir}/%u.keys\n"
                    f"StrictModes no\nPermitRootLogin {permit_root_login}\nLogLevel VERBOSE\n" + sshd_recipe_text)
        self.made_run_dir = not os.path.isdir("/run/sshd")
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        # PAM_WRAPPER_DEBUGLEVEL=2 puts pam_syslog lines on sshd's stderr (the log).
        env = dict(os.environ, LD_PRELOAD=PAM_WRAPPER, PAM_WRAPPER="1", PAM_WRAPPER_SERVICE_DIR=services,
                   PAM_WRAPPER_DEBUGLEVEL="2")
        self.log = open(os.path.join(self.dir, "sshd.log"), "w+")
        self.proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", os.path.join(self.dir, "sshd_config")],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("sshd did not start: " + open(self.log.name).read())

    def log_text(self):
        """Everything sshd and the PAM modules in it logged so far."""
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def check(self, config):
        """`pam-otp check` of this sshd's settings and PAM stack: (status, output)."""
        done = subprocess.run([CLI, "check", "--config", config, "--offline",
                               "--sshd-config", os.path.join(self.dir, "sshd_config"), "--pam-dir", self.services],
                              capture_output=True, text=True)
        return done.returncode, done.stdout + done.stderr

    def authorize(self, user, public_key):
        path = os.path.join(self.dir, f"{user.name}.keys")
        with open(path, "w") as f:
            f.write(public_key)
        os.chmod(path, 0o644)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()
        if self.made_run_dir:
            shutil.rmtree("/run/sshd", ignore_errors=True)


ASKPASS = """#!/usr/bin/python3
# ssh's askpass: answers each keyboard-interactive prompt as told in {plan}.
import json, ssl, sys, urllib.request
plan = json.load(open({plan!r}))
prompt = sys.argv[1] if len(sys.argv) > 1 else ""
with open(plan["log"], "a") as log:
    log.write(json.dumps(prompt) + "\\n")
if "assword" in prompt:
    print(plan["password"])
elif "Code sent to" in prompt:
    ctx = ssl.create_default_context(cafile=plan["ca"])
    code = urllib.request.urlopen(plan["mock"] + "/mock/last_code?to=" + urllib.request.quote(plan["to"]),
                                  context=ctx).read().decode().strip()
    if plan["code"] == "wrong":
        code = ("1" if code[0] == "9" else str(int(code[0]) + 1)) + code[1:]
    print(code)
else:
    print("")
"""


def ssh(sshd, user, mock, code="right", password=None, key=None, command="echo LOGGED_IN_AS $(id -un)",
        methods=None):
    """Logs in with the real ssh client; askpass answers the prompts. Returns
    (exit status, stdout, stderr, prompts seen, seconds)."""
    work = tempfile.mkdtemp(prefix="ssh.", dir=sshd.dir)
    plan = os.path.join(work, "plan.json")
    log = os.path.join(work, "prompts")
    with open(plan, "w") as f:
        json.dump({"password": password if password is not None else user.password, "code": code, "mock": mock.url,
                   "ca": mock.ca, "to": user.phone, "log": log}, f)
    askpass = os.path.join(work, "askpass")
    with open(askpass, "w") as f:
        f.write(ASKPASS.format(plan=plan))
    os.chmod(askpass, 0o755)
    methods = methods or ("publickey,keyboard-interactive" if key else "keyboard-interactive")
    argv = ["ssh", "-p", str(sshd.port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", f"PreferredAuthentications={methods}", "-o", "NumberOfPasswordPrompts=1",
            "-o", "IdentitiesOnly=yes"] + (["-i", key] if key else []) + [f"{user.name}@127.0.0.1", command]
    env = dict(os.environ, SSH_ASKPASS=askpass, SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
    env.pop("LD_PRELOAD", None)
    started = time.monotonic()
    done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    prompts = []
    if os.path.exists(log):
        with open(log) as f:
            prompts = [json.loads(line) for line in f]
    return done.returncode, done.stdout, done.stderr, prompts, elapsed


def wrong(code):
    return ("1" if code[0] == "9" else str(int(code[0]) + 1)) + code[1:]


def feed_with_code(proc, mock, user, first_answer, code="right", timeout=30):
    """Writes first_answer (the password), waits for the mock to deliver a
    code, writes it (or a wrong one), and returns (status, stdout, stderr)."""
    proc.stdin.write(first_answer + "\n")
    proc.stdin.flush()
    deadline = time.monotonic() + timeout
    delivered = None
    while delivered is None and time.monotonic() < deadline and proc.poll() is None:
        delivered = mock.last_code(user.phone)
        time.sleep(0.05)
    if delivered is not None:
        answer = delivered if code == "right" else wrong(delivered)
        for _ in range(3 if code == "wrong" else 1):
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.write(answer + "\n")
                proc.stdin.flush()
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


class PtySession:
    """A program on a pseudo-terminal (su reads its answers from the tty)."""

    def __init__(self, argv, env=None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvpe(argv[0], argv, env if env is not None else os.environ)
        self.output = b""

    def read_until(self, text, timeout=20):
        end = time.monotonic() + timeout
        while text.encode() not in self.output and time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.fd, 4096)
                except OSError:
                    break
        return text.encode() in self.output

    def send(self, line):
        os.write(self.fd, (line + "\n").encode())

    def wait(self, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.read_until("\0", timeout=0.2)  # drain output
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, 9)
        return -9


class Syslog:
    """A /dev/log of the test's own for the programs it runs through wrap():
    a datagram socket that a private mount namespace puts at /dev/log (over
    a /dev of bind-mounted nodes), so that setuid programs' syslog lines,
    pam_otp's among them, can be read without a syslog daemon and without
    touching the machine's /dev."""

    NODES = ("null", "zero", "full", "random", "urandom", "tty")
    SCRIPT = ('set -e; d=$1; shift; for n in ' + " ".join(NODES) + '; do mount --bind "/dev/$n" "$d/$n"; done; '
              'mount --rbind /dev/pts "$d/pts"; mount --rbind /dev/shm "$d/shm"; mount --rbind "$d" /dev; exec "$@"')

    def __init__(self, workdir):
        self.dir = tempfile.mkdtemp(prefix="dev.", dir=workdir)
        os.chmod(self.dir, 0o755)
        for name in self.NODES:
            open(os.path.join(self.dir, name), "w").close()
        for name in ("pts", "shm"):
            os.mkdir(os.path.join(self.dir, name))
        os.symlink("/proc/self/fd", os.path.join(self.dir, "fd"))
        # The devpts instance's own ptmx: a bind of the /dev/ptmx node would
        # not find its pts directory from here.
        os.symlink("pts/ptmx", os.path.join(self.dir, "ptmx"))
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(os.path.join(self.dir, "log"))
        os.chmod(os.path.join(self.dir, "log"), 0o666)
        self.socket.setblocking(False)
        self.text = ""
        # A datagram socket queues only net.unix.max_dgram_qlen (10)
        # messages; a logger blocks on the next one until it is read. So a
        # thread reads them as they come, not only when the test asks.
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.reader = threading.Thread(target=self._drain_until_closed, daemon=True)
        self.reader.start()

    def wrap(self, argv):
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", self.SCRIPT, "sh", self.dir, *argv]

    def _drain(self):
        with self.lock:
            while True:
                try:
                    self.text += self.socket.recv(65536).decode(errors="replace") + "\n"
                except BlockingIOError:
                    return

    def _drain_until_closed(self):
        while not self.closing.is_set():
            select.select([self.socket], [], [], 0.1)
            self._drain()

    def read(self):
        """Everything logged so far, one message per line."""
        self._drain()
        with self.lock:
            return self.text

    def close(self):
        self.closing.set()
        self.reader.join()
        self.socket.close()


def process_named(name, root, timeout=10):
    """The pid of the process called name: root itself or one of its
    descendants (runuser may fork before it runs the command)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = [root]
        while pending:
            pid = pending.pop()
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == name:
                        return pid
                with open(f"/proc/{pid}/task/{pid}/children") as f:
                    pending += [int(child) for child in f.read().split()]
            except OSError:
                continue
        time.sleep(0.02)
    raise AssertionError(f"no process {name} under {root}")


def process_state(pid):
    """The state letter of /proc/PID/stat (R, S, T, ...)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def restore_stale_su_backup():
    """A crashed earlier run may have left our /etc/pam.d/su in place."""
    if os.path.exists(SU_BACKUP):
        shutil.copy2(SU_BACKUP, "/etc/pam.d/su")
        os.unlink(SU_BACKUP)


@contextlib.contextmanager
def replaced_file(path, text, backup):
    """Puts text at path for the duration, restoring the original after."""
    shutil.copy2(path, backup)
    try:
        with open(path, "w") as f:
            f.write(text)
        yield
    finally:
        shutil.copy2(backup, path)
        os.unlink(backup)


@contextlib.contextmanager
def new_files(contents):
    """Creates {path: (text, mode)} files for the duration; they must not exist."""
    created = []
    try:
        for path, (text, mode) in contents.items():
            if os.path.exists(path):
                raise RuntimeError(f"{path} exists already; not touching it")
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, mode)
            created.append(path)
        yield
    finally:
        for path in created:
            os.unlink(path)
