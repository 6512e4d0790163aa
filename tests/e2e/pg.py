"""A throwaway PostgreSQL 15 cluster for the end-to-end tests.

initdb in a fresh directory under /tmp, pg_ctl start on a free loopback
port with its Unix socket in that directory, pg_stat_statements preloaded,
a small max_connections so exhausting it is cheap, and two roles:

  vigil  LOGIN, pg_monitor, a password (scram over TCP): what vigild uses;
  app    LOGIN: the "application" the tests act as (trusted on the socket).

PostgreSQL refuses to run as root, and CI runs as root: then every server
program runs as the `postgres` system user (from postgresql-common) via
runuser, and the directory is created world-traversable (0755) so that
user can reach it. Clients (psql) run as the caller and connect over the
socket in that directory.

standby() makes a streaming hot standby of a running cluster
(pg_basebackup -R over loopback TCP, which the primary's pg_hba trusts for
the postgres role's replication connections only).

stop() and remove() are idempotent; destroy() does both and is meant for
tearDown / addClassCleanup, so a cluster never outlives its test class.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile

PGBIN = os.environ.get("VIGIL_PGBIN", "/usr/lib/postgresql/15/bin")
PSQL = os.path.join(PGBIN, "psql")
VIGIL_PASSWORD = "vigil-Test-Pw-5b1f"
DBNAME = "portal"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One cluster; start() on construction unless start=False."""

    def _place(self, as_postgres, prefix):
        """Its own directory (the data, the log, the socket) and a port;
        owned by the postgres user when the tests run as root."""
        self.as_postgres = as_postgres
        self.dir = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.logfile = os.path.join(self.dir, "server.log")
        self.port = _free_port()
        self.host = "127.0.0.1"
        self.sockdir = self.dir
        self.running = False
        self.held = []
        if self.as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)

    def __init__(self, max_connections=20, start=True, extra_conf=""):
        if not os.path.exists(os.path.join(PGBIN, "initdb")):
            raise AssertionError(f"{PGBIN}/initdb not found: install postgresql-15 (make deps)")
        self._place(os.geteuid() == 0, "vigil-pg-")
        try:
            self._run([os.path.join(PGBIN, "initdb"), "-D", self.data, "-U", "postgres",
                       "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"])
            with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
                f.write(f"""
# vigil e2e: throwaway, fast, small
listen_addresses = '127.0.0.1'
port = {self.port}
unix_socket_directories = '{self.sockdir}'
max_connections = {max_connections}
superuser_reserved_connections = 3
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = top
# A killed client's backend leaves at once, not after its pg_sleep.
client_connection_check_interval = 100ms
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 16MB
log_min_messages = warning
{extra_conf}
""")
            with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
                # The socket is for the test itself; TCP needs a password,
                # so a wrong one is refused.
                f.write("local all all trust\n"
                        "host all all 127.0.0.1/32 scram-sha-256\n"
                        # standby(): pg_basebackup and streaming over loopback.
                        "host replication postgres 127.0.0.1/32 trust\n")
            if start:
                self.start()
                self.psql(f"CREATE DATABASE {DBNAME}", db="postgres")
                self.psql(f"""
                    CREATE EXTENSION pg_stat_statements;
                    CREATE ROLE vigil LOGIN PASSWORD '{VIGIL_PASSWORD}';
                    GRANT pg_monitor TO vigil;
                    CREATE ROLE nomon LOGIN PASSWORD '{VIGIL_PASSWORD}';
                    CREATE ROLE app LOGIN;
                    CREATE TABLE orders (id bigserial PRIMARY KEY,
                        customer_id int NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
                    INSERT INTO orders (customer_id) SELECT g % 100 FROM generate_series(1, 2000) g;
                    CREATE INDEX orders_customer_idx ON orders (customer_id, created_at);
                    GRANT SELECT ON orders TO app;
                """)
        except BaseException:
            self.destroy()
            raise

    def standby(self):
        """A streaming standby of this cluster, started (see Standby)."""
        return Standby(self)

    # -- running programs ---------------------------------------------------

    def _server_cmd(self, argv):
        if self.as_postgres:
            return ["runuser", "-u", "postgres", "--"] + argv
        return argv

    def _run(self, argv, timeout=60):
        r = subprocess.run(self._server_cmd(argv), capture_output=True, text=True,
                           timeout=timeout, cwd="/")
        if r.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed ({r.returncode}):\n{r.stdout}{r.stderr}"
                                 f"{self.log_tail()}")
        return r

    def log_tail(self, n=4000):
        try:
            with open(self.logfile, "rb") as f:
                return "\n--- server log ---\n" + f.read().decode("utf-8", "replace")[-n:]
        except OSError:
            return ""

    def start(self):
        for attempt in range(3):
            try:
                self._run([os.path.join(PGBIN, "pg_ctl"), "-D", self.data, "-l", self.logfile,
                           "-w", "-t", "30", "-o",
                           f"-c config_file={os.path.join(self.data, 'postgresql.conf')} "
                           f"-c port={self.port}", "start"])
                break
            except AssertionError:
                # The port was free when it was chosen, not when the server
                # bound it (another process's connection took it meanwhile:
                # it failed CI once): another port, on the command line,
                # which outranks the configuration files.
                if attempt == 2 or "could not bind" not in self.log_tail():
                    raise
                self.port = _free_port()
        self.running = True

    def stop(self, mode="fast"):
        if not self.running:
            return
        self.release()
        self._run([os.path.join(PGBIN, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "-t", "30",
                   "stop"])
        self.running = False

    def destroy(self):
        """Stops the server (immediate) and removes the directory; never raises."""
        try:
            self.release()
        except Exception:
            pass
        if self.running:
            try:
                self.stop("immediate")
            except Exception:
                self._kill_postmaster()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _kill_postmaster(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                pid = int(f.readline())
            os.kill(pid, signal.SIGQUIT)
        except (OSError, ValueError):
            pass
        self.running = False

    # -- clients -----------------------------------------------------------------

    def psql_argv(self, user="postgres", db=DBNAME):
        return [PSQL, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", self.sockdir,
                "-p", str(self.port), "-U", user, "-d", db]

    def psql(self, sql, user="postgres", db=DBNAME, check=True):
        """Runs sql over the socket; returns stdout (stripped)."""
        r = subprocess.run(self.psql_argv(user, db) + ["-c", sql], capture_output=True,
                           text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"psql {sql!r} failed: {r.stderr}")
        return r.stdout.strip() if r.returncode == 0 else r.stderr

    def hold(self, n, sql="SELECT pg_sleep(300)", user="app"):
        """Opens n sessions running sql (left running until release())."""
        procs = []
        for _ in range(n):
            p = subprocess.Popen(self.psql_argv(user) + ["-c", sql], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(p)
        self.held.extend(procs)
        return procs

    def hold_idle_in_tx(self, user="app"):
        """A session that opened a transaction and then went quiet."""
        p = subprocess.Popen(self.psql_argv(user), stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        p.stdin.write(b"BEGIN;\nSELECT count(*) FROM orders;\n")
        p.stdin.flush()
        self.held.append(p)
        return p

    def release(self, procs=None):
        procs = self.held if procs is None else procs
        for p in list(procs):
            if p.poll() is None:
                p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p.stdin:
                p.stdin.close()
            if p in self.held:
                self.held.remove(p)
        if procs and self.running:
            self.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE usename = 'app'", check=False)

    def count_sessions(self, user="app", state=None):
        """user's sessions; with state (e.g. 'active'), those in that state."""
        where = f"usename = '{user}'" + (f" AND state = '{state}'" if state else "")
        return int(self.psql(f"SELECT count(*) FROM pg_stat_activity WHERE {where}"))

    # -- what vigild is given --------------------------------------------------

    def conninfo(self, password=None, **kw):
        parts = {"host": self.host, "port": str(self.port), "dbname": DBNAME, "user": "vigil"}
        parts.update(kw)
        if password is not None:
            parts["password"] = password
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def password_file(self, workdir, password=VIGIL_PASSWORD, name="pgpass"):
        path = os.path.join(workdir, name)
        with open(path, "w") as f:
            f.write(password + "\n")
        os.chmod(path, 0o600)
        return path


class Standby(Cluster):
    """A hot standby made with pg_basebackup -R from a running primary,
    streaming from it over loopback TCP, on its own port and socket
    directory. Same roles and database (they are replicated); read-only."""

    def __init__(self, primary):
        self._place(primary.as_postgres, "vigil-pgstandby-")
        try:
            self._run([os.path.join(PGBIN, "pg_basebackup"), "-D", self.data,
                       "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                       "-R", "-X", "stream", "-c", "fast", "--no-sync"], timeout=120)
            # The copy holds the primary's settings; the later lines win.
            with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
                f.write(f"\n# vigil e2e: the standby\nport = {self.port}\n"
                        f"unix_socket_directories = '{self.sockdir}'\n")
            self.start()
        except BaseException:
            self.destroy()
            raise


def wait_port_closed(port, timeout=10):
    from harness import wait_until

    def closed():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) != 0
    wait_until(closed, timeout, f"port {port} to close")
