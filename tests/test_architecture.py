"""The shape of the code: staff routes carry a role check, imports follow the layers, and no test
module borrows from another."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Blueprint, Flask

from mp_mailer import create_app
from mp_mailer.models import UserRole
from mp_mailer.permissions import role_required
from tests.conftest import TEST_SECRET_KEY

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STAFF_BLUEPRINTS = ("campaigns", "users", "send_log")


def imports_of_test_modules(source: str) -> list[str]:
    """The test modules (`test_*`) a module's source imports from, by dotted name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found += [name for name in names if name.rpartition(".")[2].startswith("test_")]
    return found


def endpoints_without_role_check(app: Flask) -> list[str]:
    """Endpoints of the staff blueprints whose view is not wrapped by role_required."""
    missing = []
    for rule in app.url_map.iter_rules():
        blueprint, _, _ = rule.endpoint.rpartition(".")
        if blueprint not in STAFF_BLUEPRINTS:
            continue
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "required_roles", None):
            missing.append(f"{rule.endpoint} ({rule.rule})")
    return sorted(missing)


@pytest.fixture
def staff_app(tmp_path: Path) -> Iterator[Flask]:
    """The real app, never connected to: only its routes are inspected."""
    app = create_app(
        {
            "secret_key": TEST_SECRET_KEY,
            "database_url": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
            "mail_from": "Free Tibet <campaigns@freetibet.example>",
            "testing": True,
        }
    )
    yield app
    app.extensions["mp_mailer.engine"].dispose()


def test_create_app_registers_every_staff_blueprint_when_built(staff_app: Flask) -> None:
    assert set(STAFF_BLUEPRINTS) <= set(staff_app.blueprints)


def test_staff_routes_require_a_role_when_registered(staff_app: Flask) -> None:
    assert endpoints_without_role_check(staff_app) == [], "wrap these views in role_required"


def test_role_check_finder_reports_a_staff_route_when_it_lacks_role_required() -> None:
    # Guards the test above, which passes trivially while the staff blueprints have no routes.
    app = Flask(__name__)
    blueprint = Blueprint("send_log", __name__)

    @blueprint.route("/open")
    def open_page() -> str:
        return ""

    @blueprint.route("/guarded")
    @role_required(UserRole.STAFF)
    def guarded_page() -> str:
        return ""

    app.register_blueprint(blueprint)

    assert endpoints_without_role_check(app) == ["send_log.open_page (/open)"]


def test_import_contracts_are_kept_when_lint_imports_runs() -> None:
    # The console script beside this interpreter, so any virtualenv running the tests works.
    lint_imports = Path(sys.executable).with_name("lint-imports")

    result = subprocess.run(
        [str(lint_imports), "--no-cache", "--no-logo"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_test_modules_import_nothing_from_other_test_modules_when_collected() -> None:
    # Shared helpers live in tests/pages.py, journeys.py, hostile_input.py and the like, so a
    # test module can be renamed or deleted without breaking another.
    borrowed = {
        str(path.relative_to(PROJECT_ROOT)): imported
        for path in sorted((PROJECT_ROOT / "tests").rglob("*.py"))
        if (imported := imports_of_test_modules(path.read_text(encoding="utf-8")))
    }

    assert borrowed == {}


def test_test_module_import_finder_reports_an_import_from_a_test_module_when_present() -> None:
    source = (
        "from tests.views.test_supporter_journey import write_letter\n"
        "from tests import pages, test_email_headers\n"
        "import tests.journeys\n"
    )

    assert imports_of_test_modules(source) == [
        "tests.views.test_supporter_journey",
        "tests.test_email_headers",
    ]
