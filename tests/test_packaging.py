"""A release installs anywhere: the wheel, outside the checkout, serves the site under gunicorn.

It reads its settings from a .env file, as a deployment would."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET_KEY

pytestmark = pytest.mark.packaging

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# What a release is built from: the package, its templates and the files pyproject.toml names.
SOURCE_ENTRIES = ("mp_mailer", "templates", "pyproject.toml", "README.md")


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the source so the checkout gets no build/ folder.

    No build isolation: the current venv's setuptools builds it, so no network is needed."""
    source = tmp_path_factory.mktemp("source")
    for entry in SOURCE_ENTRIES:
        origin = PROJECT_ROOT / entry
        if origin.is_dir():
            shutil.copytree(origin, source / entry, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(origin, source / entry)
    out = tmp_path_factory.mktemp("dist")
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--quiet",
        "--wheel-dir",
        out,
        source,
        cwd=source,
    )
    (built,) = out.glob("mp_mailer-*.whl")
    return built


@pytest.fixture(scope="module")
def installed_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the wheel; its dependencies come from this venv's site-packages
    through a .pth line, so nothing is downloaded and the checkout is not on its path."""
    venv = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=venv)
    python = venv / "bin" / "python"
    site_packages = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=venv
        ).strip()
    )
    (site_packages / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-deps",
        "--no-index",
        "--quiet",
        wheel,
        cwd=venv,
    )
    return venv


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def deployment(installed_venv: Path, tmp_path: Path) -> Iterator[str]:
    """gunicorn from the installed venv, in a folder with a .env and nothing else; its base URL."""
    (tmp_path / ".env").write_text(
        f"SECRET_KEY={TEST_SECRET_KEY}\n"
        f"DATABASE_URL=sqlite:///{tmp_path / 'site.sqlite3'}\n"
        "MAIL_FROM=Free Tibet <campaigns@freetibet.example>\n"
        "LOG_LEVEL=WARNING\n"
    )
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    _run(installed_venv / "bin" / "mp-mailer", "init-db", cwd=tmp_path, env=environment)
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            str(installed_venv / "bin" / "python"),
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "mp_mailer.wsgi:app",
        ],
        cwd=tmp_path,
        env=environment,
        stdout=log,
        stderr=log,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _get(url: str) -> tuple[int, str]:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=20) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            # Refused while gunicorn starts, or slow to answer its first request on a busy machine.
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_wheel_holds_every_module_and_template_when_built(wheel: Path) -> None:
    packaged = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        path.relative_to(PROJECT_ROOT).as_posix()
        for path in (PROJECT_ROOT / "mp_mailer").rglob("*.py")
        if "__pycache__" not in path.parts
    } | {
        "mp_mailer/templates/" + path.relative_to(PROJECT_ROOT / "templates").as_posix()
        for path in (PROJECT_ROOT / "templates").rglob("*.html")
    }

    assert expected - packaged == set()


def test_installed_wheel_imports_the_package_from_the_venv_when_run_outside_the_checkout(
    installed_venv: Path, tmp_path: Path
) -> None:
    location = _run(
        installed_venv / "bin" / "python",
        "-c",
        "import mp_mailer; print(mp_mailer.__file__)",
        cwd=tmp_path,
    )

    assert Path(location.strip()).is_relative_to(installed_venv)


def test_installed_wheel_serves_the_campaign_page_when_run_under_gunicorn(
    deployment: str,
) -> None:
    status, page = _get(deployment + "/")

    assert status == 200
    assert "Ban Chen Quanguo" in page
