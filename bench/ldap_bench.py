"""An OpenLDAP slapd for bench/run's directory logins (pam_otp_ldap), as
tests/support/slapd_server.cc starts one for the tests: Debian's slapd in a
temporary directory (an old-style slapd.conf, back_mdb, the core, cosine and
inetOrgPerson schemas), TLS with a CA made now, ldaps:// on a free port of
127.0.0.1; the users' entries loaded with ldapadd over ldaps://, as an
administrator would. Its monitor database counts the connections made."""

import ctypes
import os
import signal
import socket
import subprocess
import time

import pg_bench

SLAPD = "/usr/sbin/slapd"
BASE = "dc=example,dc=com"
ADMIN = f"cn=admin,{BASE}"
PEOPLE = f"ou=people,{BASE}"
# Area codes for the fictional numbers 555-0100 to 555-0199, the only 555
# numbers libphonenumber takes as valid: 1200 numbers (users beyond share them).
AREAS = ("202", "212", "213", "305", "312", "415", "503", "617", "646", "702", "718", "206")
# How people type them into a directory (default_region = "US" reads the
# ones without +1).
FORMATS = ("+1 ({a}) 555-{n}", "+1 {a} 555 {n}", "({a}) 555-{n}", "{a}.555.{n}", "+1-{a}-555-{n}")
PR_SET_PDEATHSIG = 1
PRCTL = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork, not in the child


def phone(i):
    """The i-th user's mobile as typed in the directory, and as E.164."""
    area, n = AREAS[i // 100 % len(AREAS)], f"01{i % 100:02d}"
    return FORMATS[i % len(FORMATS)].format(a=area, n=n), f"+1{area}555{n}"


def dying_with(parent):
    """For the child: killed when the bench exits, however it exits (even
    killed itself), so that no slapd outlives it; SIGKILL, which also ends
    a slapd stopped between the directory's logins."""
    def arm():
        PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # (the bench died before prctl)
            os._exit(126)
    return arm


class Slapd:
    def __init__(self, work):
        self.dir = os.path.join(work, "slapd")
        os.mkdir(self.dir, 0o700)
        os.mkdir(os.path.join(self.dir, "db"), 0o700)
        pg_bench.make_tls(self.dir)
        self.ca = os.path.join(self.dir, "ca.pem")
        # One file for ldapadd (-y: all of it is the password) and for the
        # logins (bind_password_file: its first line): no newline.
        self.password, self.password_file = os.urandom(16).hex(), os.path.join(self.dir, "admin-password")
        with open(os.open(self.password_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(self.password)
        self.write_config()
        self.port = pg_bench.free_port()
        self.uri = f"ldaps://127.0.0.1:{self.port}"
        self.log = open(os.path.join(work, "slapd.log"), "w")
        # -d 0: in the foreground (its pid is the server's), logging nothing.
        self.proc = subprocess.Popen([SLAPD, "-d", "0", "-f", os.path.join(self.dir, "slapd.conf"), "-h", self.uri + "/"],
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"},
                                     start_new_session=True, preexec_fn=dying_with(os.getpid()))
        try:
            self.wait_listening()
            self.ldap("ldapadd", ldif=f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n"
                                 f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n")
        except BaseException:  # Ctrl-C included: the caller has no server to stop yet
            self.stop()
            raise

    def write_config(self):
        with open(os.path.join(self.dir, "slapd.conf"), "w") as f:
            f.write(f"""include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {self.dir}/slapd.pid
TLSCACertificateFile {self.dir}/ca.pem
TLSCertificateFile {self.dir}/server.pem
TLSCertificateKeyFile {self.dir}/server.key
database mdb
maxsize 67108864
suffix "{BASE}"
rootdn "{ADMIN}"
rootpw {self.password}
directory {self.dir}/db
index objectClass,uid eq
database monitor
access to * by dn.exact="{ADMIN}" read by * none
""")

    def wait_listening(self):
        for _ in range(1500):
            if self.proc.poll() is not None:
                raise SystemExit(f"bench: slapd exited; see {self.log.name}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)
        raise SystemExit("bench: slapd was not listening within 30 s")

    def ldap(self, tool, *args, ldif=""):
        """ldapadd or ldapsearch as the administrator over ldaps://, the CA verified."""
        done = subprocess.run([tool, "-x", "-H", self.uri, "-D", ADMIN, "-y", self.password_file, *args],
                              input=ldif, capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "LDAPTLS_CACERT": self.ca, "LDAPTLS_REQCERT": "hard"})
        if done.returncode != 0:
            raise SystemExit(f"bench: {tool} failed: {done.stderr.strip()}")
        return done.stdout

    def add_users(self, users):
        """An inetOrgPerson entry for each (name, typed mobile) pair."""
        self.ldap("ldapadd", ldif="\n".join(f"dn: uid={name},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {name}\n"
                                       f"cn: Bench {name}\nsn: {name}\nmobile: {mobile}\n" for name, mobile in users))

    def config(self):
        """pam_otp.conf's [directory] table for this server."""
        return f"""
[directory]
uri = "{self.uri}"
ca_file = "{self.ca}"
bind_dn = "{ADMIN}"
bind_password_file = "{self.password_file}"
base = "{PEOPLE}"
filter = "(&(objectClass=inetOrgPerson)(uid=${{user}}))"
default_region = "US"
timeout = 3
[directory.attributes]
sms = "mobile"
email = "mail"
"""

    def connections(self):
        """Connections accepted so far, this query's own included."""
        out = self.ldap("ldapsearch", "-LLL", "-b", "cn=Total,cn=Connections,cn=Monitor", "-s", "base",
                        "monitorCounter")
        return int(next(line.split()[1] for line in out.splitlines() if line.startswith("monitorCounter:")))

    def cpu_ns(self):
        """slapd's CPU time so far, every thread's (clock ticks: read over many logins)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1e9 / os.sysconf("SC_CLK_TCK")  # utime, stime

    def stop(self):
        if self.proc.poll() is None:
            pg_bench.resume(self)
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
