"""SONAR installed from its wheel, as an operator installs it, serves the API and the UI.

The wheel is built with ``pip wheel --no-deps`` from a copy of the sources (a stale
``build/`` in the checkout cannot leak into it) and installed into a fresh venv in a
temporary directory. Its dependencies come from this test venv's site-packages, added to the
fresh venv as a plain path, so that the editable install of SONAR there (a ``.pth`` file,
which a plain path does not run) is not seen; ``pip check`` then holds the wheel's declared
dependencies to what is there. ``sonar migrate`` and ``sonar serve`` run from a directory
outside the checkout: every file they read must have come with the wheel.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, check=False,  # noqa: S603
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done.stdout


def install_wheel(work: Path) -> Path:
    """Build the wheel, install it into a fresh venv under ``work``; return the venv."""
    source = work / "source"
    shutil.copytree(ROOT / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run(*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", work / "dist", source, cwd=work)
    (wheel,) = (work / "dist").glob("sonar-*.whl")
    venv = work / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work)
    python = venv / "bin" / "python"
    run(*pip, "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel,
        cwd=work)
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    cwd=work).strip())
    (site / "sonar-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(*pip, "--python", python, "check", cwd=work)
    return venv


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_installed_wheel_migrates_and_serves_the_api_and_the_ui(tmp_path: Path) -> None:
    venv = install_wheel(tmp_path)
    here = tmp_path / "elsewhere"
    here.mkdir()
    assert not here.is_relative_to(ROOT)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SONAR_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env |= {"SONAR_DATA_DIR": str(here / "data"), "PYTHONNOUSERSITE": "1"}
    found = run(venv / "bin" / "python", "-c", "import sonar; print(sonar.__file__)", cwd=here,
                env=env)
    assert Path(found.strip()).is_relative_to(venv), found  # the wheel's, not the checkout's

    assert "records' store ready" in run(venv / "bin" / "sonar", "migrate", cwd=here, env=env)
    port = free_port()
    with (here / "serve.log").open("w") as log:
        serve = subprocess.Popen([str(venv / "bin" / "sonar"), "serve", "--port", str(port)],  # noqa: S603
                                 cwd=here, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert serve.poll() is None, (here / "serve.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "sonar serve did not start"
            try:
                health = httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health.status_code == 200, health.text
        sign_in = httpx.get(f"{base}/ui/sign-in", timeout=10)
        assert sign_in.status_code == 200, sign_in.text
        assert "<form" in sign_in.text  # a template from the wheel
        assert httpx.get(f"{base}/ui/static/sonar.css", timeout=10).status_code == 200
    finally:
        serve.terminate()
        try:
            serve.wait(timeout=15)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()
