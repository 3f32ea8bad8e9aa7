"""A real single-node Apache Kafka broker (KRaft) for development and CI, without Docker.

The broker's jars come from Maven Central through ``devtools/kafka-broker/pom.xml``
(``kafka_2.13`` plus a log4j2 binding) and are cached under ``$SONAR_KAFKA_HOME`` (default
``~/.cache/sonar/kafka``), so only the first start needs the network. Each broker gets two free
loopback ports (client and controller), a KRaft storage directory formatted with
``kafka.tools.StorageTool``, and a JVM started as ``java -cp 'libs/*' kafka.Kafka
server.properties``. It counts as started once a kafka-python client gets cluster metadata from
it.

A broker object can be stopped and started again: it keeps its ports and data, which is what a
"broker restarted mid-stream" test needs. ``python -m devtools.kafka start`` starts one detached
and records it in a state file, so another process can ask for its ``status`` or ``stop`` it.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import importlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "KafkaBroker",
    "KafkaBrokerError",
    "broker_ready",
    "default_home",
    "ensure_jars",
    "generate_cluster_id",
    "pom_path",
]

_log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
MAVEN_COPY_GOAL = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies"
JVM_OPTIONS = ("-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-Djava.awt.headless=true")
STOP_GRACE_SECONDS = 30.0
MAVEN_TIMEOUT_SECONDS = 900.0
FORMAT_TIMEOUT_SECONDS = 120.0
LOG_TAIL_LINES = 60
_COMPLETE_MARKER = ".sonar-complete"


class KafkaBrokerError(RuntimeError):
    """The broker's jars could not be resolved, or the broker could not be started or stopped."""


# --- where things live --------------------------------------------------------------------


def default_home() -> Path:
    """The jar cache and state directory: ``$SONAR_KAFKA_HOME`` or ``~/.cache/sonar/kafka``."""
    configured = os.environ.get("SONAR_KAFKA_HOME")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "sonar" / "kafka"


def pom_path() -> Path:
    """``devtools/kafka-broker/pom.xml``, or ``$SONAR_KAFKA_POM`` (a pom file or its folder)."""
    configured = os.environ.get("SONAR_KAFKA_POM")
    if configured:
        path = Path(configured).expanduser()
        return path / "pom.xml" if path.is_dir() else path
    return Path(__file__).resolve().parent / "kafka-broker" / "pom.xml"


def generate_cluster_id() -> str:
    """A KRaft cluster id made without a JVM: URL-safe base64 of 16 random bytes, unpadded."""
    while True:
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode("ascii")
        if not cluster_id.startswith("-"):  # StorageTool would read it as an option
            return cluster_id


# --- jars ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock, so parallel processes resolve the jars only once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _tail(text: str, lines: int = LOG_TAIL_LINES) -> str:
    return "\n".join(text.splitlines()[-lines:])


def ensure_jars(cache_dir: Path | None = None) -> Path:
    """Return ``<cache>/libs`` holding the broker's jars, resolving them with Maven if needed.

    The first call runs ``mvn copy-dependencies`` on ``devtools/kafka-broker/pom.xml``
    (network); later calls reuse the cache without touching the network. The cache is redone
    when the pom changes; with no pom to be found (an installed package), any complete cache is
    used as it is.
    ``log4j2.properties`` beside the pom is copied into the cache too.
    """
    home = (cache_dir or default_home()).expanduser()
    libs = home / "libs"
    marker = libs / _COMPLETE_MARKER
    pom = pom_path()
    with _file_lock(home / ".jars.lock"):
        if not pom.is_file():
            if marker.is_file():
                return libs
            raise KafkaBrokerError(
                f"no Kafka jars cached in {libs} and no pom at {pom} to resolve them "
                "(set SONAR_KAFKA_POM to devtools/kafka-broker/pom.xml or SONAR_KAFKA_HOME to a "
                "filled cache)"
            )
        digest = hashlib.sha256(pom.read_bytes()).hexdigest()
        if marker.is_file() and marker.read_text().strip() == digest:
            return libs
        mvn = shutil.which("mvn")
        if mvn is None:
            raise KafkaBrokerError("Maven (mvn) is not on PATH: it is needed once to fetch the "
                                   f"Kafka jars into {libs}")
        staging = home / "libs.partial"
        shutil.rmtree(staging, ignore_errors=True)
        command = [mvn, "-B", "-q", "-f", str(pom), MAVEN_COPY_GOAL,
                   f"-DoutputDirectory={staging}", "-DincludeScope=runtime"]
        _log.info("resolving Kafka jars: %s", " ".join(command))
        started = time.monotonic()
        try:
            result = subprocess.run(  # noqa: S603 - fixed argv, no shell
                command, capture_output=True, text=True, timeout=MAVEN_TIMEOUT_SECONDS,
                check=False, stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as error:
            raise KafkaBrokerError(f"mvn timed out after {error.timeout:.0f} s") from error
        if result.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
            raise KafkaBrokerError(
                f"mvn failed to resolve the Kafka jars (exit {result.returncode}):\n"
                + _tail(result.stdout + result.stderr)
            )
        log4j = pom.parent / "log4j2.properties"
        if log4j.is_file():
            shutil.copyfile(log4j, home / "log4j2.properties")
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
        marker.write_text(digest + "\n")
        _log.info("Kafka jars resolved in %.1f s into %s", time.monotonic() - started, libs)
        return libs


# --- readiness ----------------------------------------------------------------------------


def _port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _split_bootstrap(bootstrap: str) -> tuple[str, int]:
    first = bootstrap.split(",", maxsplit=1)[0].strip()
    host, _, port = first.rpartition(":")
    return host.strip("[]") or LOOPBACK, int(port)


def broker_ready(bootstrap: str, timeout_ms: int = 5000) -> bool:
    """True if a kafka-python client gets cluster metadata from ``bootstrap`` in time."""
    try:
        host, port = _split_bootstrap(bootstrap)
    except ValueError:
        return False
    if not _port_open(host, port):  # spare the client's connection-refused noise
        return False
    # Imported by name: kafka-python ships no type information, and the repository's own
    # ``kafka/`` folder (the pom) would shadow it for mypy run from the repository root.
    admin_class: Any = importlib.import_module("kafka").KafkaAdminClient
    kafka_error: type[Exception] = importlib.import_module("kafka.errors").KafkaError

    # kafka-python 3 renamed api_version_auto_timeout_ms to bootstrap_timeout_ms, and both
    # reject options they do not know.
    defaults: dict[str, Any] = admin_class.DEFAULT_CONFIG
    key = "bootstrap_timeout_ms" if "bootstrap_timeout_ms" in defaults else (
        "api_version_auto_timeout_ms")
    options: dict[str, Any] = {key: timeout_ms, "request_timeout_ms": max(timeout_ms, 1000)}
    try:
        admin = admin_class(bootstrap_servers=bootstrap, client_id="sonar-readiness",
                            **options)
    except (kafka_error, OSError, ValueError):
        return False
    try:
        admin.list_topics()
    except (kafka_error, OSError, ValueError):
        return False
    finally:
        admin.close()
    return True


# --- the broker ---------------------------------------------------------------------------


def _free_ports(count: int) -> list[int]:
    """Ports the kernel hands out on loopback now (all held open together, so distinct)."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((LOOPBACK, 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the JVM binds
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped) still answers kill(0).
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return False
    return True


def _is_our_broker(pid: int, properties: Path) -> bool:
    """Guard against pid reuse: the process must be kafka.Kafka on this properties file."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _pid_alive(pid)  # no /proc: trust the pid
    return b"kafka.Kafka" in argv and str(properties).encode() in argv


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise KafkaBrokerError("java is not on PATH (Kafka 4 needs Java 17+)")
    return java


@dataclass(frozen=True)
class BrokerState:
    """What ``python -m devtools.kafka start`` leaves behind for ``status`` and ``stop``."""

    pid: int
    port: int
    controller_port: int
    data_dir: str
    log_file: str
    properties: str
    started_at: float

    @property
    def bootstrap(self) -> str:
        return f"{LOOPBACK}:{self.port}"


class KafkaBroker:
    """One KRaft broker+controller JVM on loopback, with its own data directory.

    ``data_dir`` defaults to a new temporary directory that ``stop()`` removes; a given one is
    kept. ``state_file``, when given, records the running broker for other processes.
    """

    def __init__(
        self,
        home: Path | None = None,
        *,
        data_dir: Path | None = None,
        state_file: Path | None = None,
        detached: bool = False,
    ) -> None:
        self.home = (home or default_home()).expanduser()
        self._owns_data_dir = data_dir is None
        self.data_dir = data_dir.expanduser() if data_dir else None
        self.state_file = state_file
        self.detached = detached
        self.port: int | None = None
        self.controller_port: int | None = None
        self.pid: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    # paths -------------------------------------------------------------------------------

    def _dir(self) -> Path:
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="sonar-kafka-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    @property
    def properties_file(self) -> Path:
        return self._dir() / "server.properties"

    @property
    def log_file(self) -> Path:
        """The JVM's stdout and stderr (the console appender): read this when a start fails."""
        return self._dir() / "broker.log"

    @property
    def bootstrap(self) -> str:
        """``127.0.0.1:PORT`` for clients; only known once started."""
        if self.port is None:
            raise KafkaBrokerError("the broker has not been started")
        return f"{LOOPBACK}:{self.port}"

    # lifecycle ---------------------------------------------------------------------------

    def is_running(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return self.pid is not None and _pid_alive(self.pid) and _is_our_broker(
            self.pid, self.properties_file)

    def start(self, timeout: float = 120.0) -> str:
        """Start the broker and wait until it serves metadata; return the bootstrap address.

        A restart of the same object reuses its ports and data (topics and offsets survive).
        """
        if self.is_running():
            return self.bootstrap
        libs = ensure_jars(self.home)  # bounded by Maven's own timeout, not by `timeout`
        java = _java()
        deadline = time.monotonic() + timeout
        self._prepare_storage(java, libs)
        self._launch(java, libs)
        try:
            self._wait_ready(deadline)
        except BaseException:
            self._terminate()
            raise
        self._write_state()
        return self.bootstrap

    def restart(self, timeout: float = 120.0) -> str:
        """Stop and start again on the same ports and data."""
        self.stop(remove_data=False)
        return self.start(timeout)

    def stop(self, *, remove_data: bool | None = None) -> None:
        """SIGTERM the JVM, SIGKILL after 30 s; remove a temporary data dir unless told not to."""
        self._terminate()
        if self.state_file is not None:
            self.state_file.unlink(missing_ok=True)
        remove = self._owns_data_dir if remove_data is None else remove_data
        if remove and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None
            self.port = self.controller_port = None

    def __enter__(self) -> KafkaBroker:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # another process's broker ------------------------------------------------------------

    @classmethod
    def from_state(cls, state_file: Path, home: Path | None = None) -> KafkaBroker | None:
        """The broker a state file describes, if that file exists and is readable."""
        try:
            raw = json.loads(state_file.read_text())
            state = BrokerState(**raw)
        except (OSError, ValueError, TypeError):
            return None
        broker = cls(home, data_dir=Path(state.data_dir), state_file=state_file, detached=True)
        broker._owns_data_dir = False
        broker.pid = state.pid
        broker.port = state.port
        broker.controller_port = state.controller_port
        return broker

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            return _tail(self.log_file.read_text(errors="replace"), lines)
        except OSError:
            return "(no broker log)"

    # internals ---------------------------------------------------------------------------

    def _prepare_storage(self, java: str, libs: Path) -> None:
        data = self._dir()
        logs = data / "kraft"
        formatted = (logs / "meta.properties").is_file()
        ports_file = data / "ports.json"
        if formatted and self.port is None:  # a data dir kept from an earlier broker object
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                ports = json.loads(ports_file.read_text())
                self.port, self.controller_port = int(ports["port"]), int(ports["controller"])
        if (formatted and self.port is not None and self.controller_port is not None
                and _port_free(self.port) and _port_free(self.controller_port)):
            return  # a restart: same ports, same data
        if formatted:  # ports unknown or taken: begin again
            shutil.rmtree(logs, ignore_errors=True)
        self.port, self.controller_port = _free_ports(2)
        ports_file.write_text(json.dumps({"port": self.port, "controller": self.controller_port}))
        self.properties_file.write_text(self._properties(logs))
        command = [java, *JVM_OPTIONS, "-cp", str(libs / "*"), "kafka.tools.StorageTool",
                   "format", "--standalone", "-t", generate_cluster_id(),
                   "-c", str(self.properties_file)]
        try:
            result = subprocess.run(  # noqa: S603 - fixed argv, no shell
                command, capture_output=True, text=True, timeout=FORMAT_TIMEOUT_SECONDS,
                check=False, stdin=subprocess.DEVNULL, env=self._java_env(),
            )
        except subprocess.TimeoutExpired as error:
            raise KafkaBrokerError("formatting Kafka storage timed out") from error
        if result.returncode != 0:
            raise KafkaBrokerError(
                f"formatting Kafka storage failed (exit {result.returncode}):\n"
                + _tail(result.stdout + result.stderr)
            )

    def _properties(self, logs: Path) -> str:
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "listeners": f"PLAINTEXT://{LOOPBACK}:{self.port},"
                         f"CONTROLLER://{LOOPBACK}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "controller.quorum.bootstrap.servers": f"{LOOPBACK}:{self.controller_port}",
            "log.dirs": str(logs),
            "num.partitions": "1",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "num.network.threads": "2",
            "num.io.threads": "2",
            "log.cleaner.dedupe.buffer.size": "8388608",
            "auto.create.topics.enable": "true",
        }
        header = "# written by devtools.kafka_broker; regenerated on a fresh start\n"
        return header + "".join(f"{key}={value}\n" for key, value in settings.items())

    def _log4j_config(self) -> Path | None:
        beside_pom = pom_path().parent / "log4j2.properties"
        if beside_pom.is_file():
            return beside_pom
        cached = self.home / "log4j2.properties"
        return cached if cached.is_file() else None

    def _java_env(self) -> dict[str, str]:
        env = dict(os.environ)
        # Keep the caller's JVM options (e.g. a debugger agent) out of the broker.
        for variable in ("JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS"):
            env.pop(variable, None)
        return env

    def _launch(self, java: str, libs: Path) -> None:
        data = self._dir()
        command = [java, *JVM_OPTIONS, f"-Dkafka.logs.dir={data}"]
        log4j = self._log4j_config()
        if log4j is not None:
            command.append(f"-Dlog4j2.configurationFile={log4j}")
        command += ["-cp", str(libs / "*"), "kafka.Kafka", str(self.properties_file)]
        with self.log_file.open("wb") as log:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=data, env=self._java_env(), start_new_session=self.detached,
            )
        self.pid = self._process.pid

    def _wait_ready(self, deadline: float) -> None:
        while True:
            if not self.is_running():
                code = self._process.returncode if self._process is not None else "?"
                raise KafkaBrokerError(
                    f"the Kafka broker exited (code {code}) before it was ready; "
                    f"{self.log_file}:\n{self.log_tail()}"
                )
            if broker_ready(self.bootstrap, timeout_ms=3000):
                return
            if time.monotonic() > deadline:
                raise KafkaBrokerError(
                    f"the Kafka broker did not serve metadata in time on {self.bootstrap}; "
                    f"{self.log_file}:\n{self.log_tail()}"
                )
            time.sleep(0.25)

    def _terminate(self) -> None:
        pid = self.pid
        if pid is None:
            return
        if self._process is None and not _is_our_broker(pid, self.properties_file):
            self.pid = None  # gone already, or the pid now belongs to something else
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if not self._wait_exit(STOP_GRACE_SECONDS):
            _log.warning("Kafka broker %s ignored SIGTERM for %.0f s; killing it", pid,
                         STOP_GRACE_SECONDS)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            self._wait_exit(10.0)
        self._process = None
        self.pid = None

    def _wait_exit(self, seconds: float) -> bool:
        if self._process is not None:
            try:
                self._process.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                return False
            return True
        assert self.pid is not None  # noqa: S101 - only called with a pid
        deadline = time.monotonic() + seconds
        while _pid_alive(self.pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def _write_state(self) -> None:
        if self.state_file is None or self.pid is None:
            return
        assert self.port is not None  # noqa: S101
        assert self.controller_port is not None  # noqa: S101
        state = BrokerState(
            pid=self.pid, port=self.port, controller_port=self.controller_port,
            data_dir=str(self._dir()), log_file=str(self.log_file),
            properties=str(self.properties_file), started_at=time.time(),
        )
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self.state_file.with_suffix(".tmp")
        partial.write_text(json.dumps(asdict(state), indent=2) + "\n")
        partial.replace(self.state_file)
