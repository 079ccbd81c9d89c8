"""A PostgreSQL 15 server (and pgbouncer in front of it) for bench/run's
shared-store logins: Debian's binaries, run as the postgres user in a
temporary directory on 127.0.0.1, TLS with a CA made now, scram-sha-256;
pam_otp's schema made by `pam-otp state init`, as an administrator would."""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time

BIN = "/usr/lib/postgresql/15/bin"
LOGIN_ROLE = "pam_otp_login"
DATABASE = "pam_otp"


def postgres_ids():
    """The postgres user's uid and gid, from /etc/passwd itself (the bench
    runs its logins under nss_wrapper, but not this)."""
    with open("/etc/passwd") as f:
        for line in f:
            fields = line.split(":")
            if fields[0] == "postgres":
                return int(fields[2]), int(fields[3])
    raise SystemExit("bench: no postgres user (is postgresql-15 installed? scripts/test installs it)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(argv, **kwargs):
    uid, gid = postgres_ids()
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"] + argv


def make_tls(directory):
    """A CA made now and a server certificate for 127.0.0.1 signed by it."""
    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "2", "-subj", "/CN=pam_otp bench database CA")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(directory, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "san.ext")


class Postgres:
    def __init__(self, work, cli, config, max_connections=100):
        self.dir = os.path.join(work, "pg")
        os.mkdir(self.dir, 0o700)
        uid, gid = postgres_ids()
        make_tls(self.dir)
        # The CA as the logins' config names it: a root-owned copy (pam_otp
        # checks the files its config names as it checks ca_file).
        self.ca = os.path.join(work, "db-ca.pem")
        shutil.copy(os.path.join(self.dir, "ca.pem"), self.ca)
        self.superuser_password = secrets.token_hex(16)
        self.login_password = secrets.token_hex(16)
        with open(os.path.join(self.dir, "pw"), "w") as f:
            f.write(self.superuser_password + "\n")
        for name in os.listdir(self.dir):
            os.chown(os.path.join(self.dir, name), uid, gid)
        os.chown(self.dir, uid, gid)
        os.chmod(os.path.join(self.dir, "server.key"), 0o600)
        subprocess.run(as_postgres([f"{BIN}/initdb", "-D", f"{self.dir}/data", "-U", "postgres",
                                    "--auth=scram-sha-256", f"--pwfile={self.dir}/pw", "-N", "--no-instructions",
                                    "-E", "UTF8", "--locale=C"]), check=True, capture_output=True,
                       env={"PATH": "/usr/bin:/bin"})
        with open(f"{self.dir}/data/pg_hba.conf", "w") as f:
            f.write("hostssl all all 127.0.0.1/32 scram-sha-256\nhost all all 0.0.0.0/0 reject\n")
        self.port = free_port()
        self.log = open(os.path.join(work, "postgres.log"), "w")
        self.proc = subprocess.Popen(as_postgres([
            f"{BIN}/postgres", "-D", f"{self.dir}/data", "-c", "listen_addresses=127.0.0.1", "-c", f"port={self.port}",
            "-c", f"unix_socket_directories={self.dir}", "-c", "ssl=on", "-c", f"ssl_cert_file={self.dir}/server.pem",
            "-c", f"ssl_key_file={self.dir}/server.key", "-c", f"max_connections={max_connections}"]),
            stdout=self.log, stderr=subprocess.STDOUT, env={"PATH": "/usr/bin:/bin"}, start_new_session=True)
        self.wait_ready()
        self.psql(f"CREATE ROLE {LOGIN_ROLE} LOGIN PASSWORD '{self.login_password}'")
        self.psql(f"CREATE DATABASE {DATABASE}")
        admin_pw = os.path.join(work, "pg-admin-password")
        with open(admin_pw, "w") as f:
            f.write(self.superuser_password + "\n")
        os.chmod(admin_pw, 0o600)
        done = subprocess.run([cli, "state", "init", "--config", config, "--store", self.uri("postgres"),
                               "--password-file", admin_pw, "--grant", LOGIN_ROLE], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"bench: pam-otp state init failed: {done.stdout}{done.stderr}")

    def uri(self, role, port=None, extra=""):
        return f"postgresql://{role}@127.0.0.1:{port or self.port}/{DATABASE}?sslrootcert={self.ca}{extra}"

    def psql(self, sql, database="postgres"):
        done = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                               f"postgresql://postgres@127.0.0.1:{self.port}/{database}?sslmode=require", "-c", sql],
                              capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "PGPASSWORD": self.superuser_password})
        if done.returncode != 0:
            raise SystemExit(f"bench: psql failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def wait_ready(self):
        for _ in range(600):
            if self.proc.poll() is not None:
                raise SystemExit(f"bench: postgres exited; see {self.log.name}")
            try:
                self.psql("SELECT 1")
                return
            except SystemExit:
                time.sleep(0.05)
        raise SystemExit("bench: postgres did not start within 30 s")

    def sessions(self):
        """Sessions established so far in pam_otp's database (pg_stat_database)."""
        return int(self.psql(f"SELECT sessions FROM pg_stat_database WHERE datname = '{DATABASE}'"))

    def cpu_ns(self):
        """The CPU time of the server so far: every live server process's
        (schedstat, ns) and the exited ones' (the postmaster's children's
        times, in clock ticks: read over many logins, not one)."""
        total = schedstat_ns(self.proc.pid)
        for pid in children(self.proc.pid):
            total += schedstat_ns(pid)
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[13]) + int(fields[14])) * 1e9 / os.sysconf("SC_CLK_TCK")  # cutime, cstime
        except OSError:
            pass
        return total

    def stop(self):
        resume(self)
        self.proc.terminate()
        self.proc.wait()
        self.log.close()


def pause(*servers):
    """SIGSTOP to each server's process group, so that its timers (the
    walwriter's, the checkpointer's, autovacuum's, pgbouncer's) do not wake
    during the other kinds' logins, whose differences are tenths of a ms."""
    for server in servers:
        os.killpg(server.proc.pid, signal.SIGSTOP)


def resume(*servers):
    for server in servers:
        os.killpg(server.proc.pid, signal.SIGCONT)


def schedstat_ns(pid):
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0])
    except OSError:
        return 0


def children(pid):
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(name))
            except OSError:
                pass
    return out


class Pgbouncer:
    """pgbouncer 1.18 in transaction mode in front of the server, TLS on both
    sides; the login role's SCRAM secret copied from the server."""

    def __init__(self, work, pg):
        self.dir = os.path.join(work, "pgbouncer")
        os.mkdir(self.dir, 0o700)
        uid, gid = postgres_ids()
        secret = pg.psql(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{LOGIN_ROLE}'")
        self.port = free_port()
        with open(os.path.join(self.dir, "users.txt"), "w") as f:
            f.write(f'"{LOGIN_ROLE}" "{secret}"\n')
        for name in ("server.pem", "server.key", "ca.pem"):
            shutil.copy(os.path.join(pg.dir, name), self.dir)
        with open(os.path.join(self.dir, "pgbouncer.ini"), "w") as f:
            f.write(f"""[databases]
{DATABASE} = host=127.0.0.1 port={pg.port} dbname={DATABASE}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {self.dir}/users.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 1000
client_tls_sslmode = require
client_tls_cert_file = {self.dir}/server.pem
client_tls_key_file = {self.dir}/server.key
server_tls_sslmode = verify-full
server_tls_ca_file = {self.dir}/ca.pem
""")
        for name in os.listdir(self.dir):
            os.chown(os.path.join(self.dir, name), uid, gid)
        os.chown(self.dir, uid, gid)
        self.log = open(os.path.join(work, "pgbouncer.log"), "w")
        self.proc = subprocess.Popen(as_postgres(["pgbouncer", os.path.join(self.dir, "pgbouncer.ini")]),
                                     stdout=self.log, stderr=subprocess.STDOUT, env={"PATH": "/usr/bin:/usr/sbin:/bin"},
                                     start_new_session=True)
        for _ in range(200):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.proc.poll() is not None:
                raise SystemExit(f"bench: pgbouncer exited; see {self.log.name}")
            time.sleep(0.05)
        raise SystemExit("bench: pgbouncer did not start within 10 s")

    def cpu_ns(self):
        return schedstat_ns(self.proc.pid)

    def stop(self):
        resume(self)
        self.proc.terminate()
        self.proc.wait()
        self.log.close()
