"""The offline demo in one command (`make demo`): the stand-in Members API, then `mp-mailer run`
(the site, a worker and the local mail sink), all stopped together by Ctrl-C.

.env gets PARLIAMENT_API_URL pointing at the stand-in, so `mp-mailer sync-mps` uses it too;
delete that line from .env to use the real Members API again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools import fake_members_api  # noqa: E402

STAND_IN_PORT = 8765
STAND_IN_URL = f"http://127.0.0.1:{STAND_IN_PORT}/api"
SETTING = "PARLIAMENT_API_URL"


def point_env_file_at_stand_in(env_file: Path) -> None:
    """Set PARLIAMENT_API_URL in .env to the stand-in, keeping every other line as it was."""
    lines = env_file.read_text().splitlines() if env_file.exists() else []
    wanted = f"{SETTING}={STAND_IN_URL}"
    kept = [line for line in lines if not line.strip().startswith(f"{SETTING}=")]
    if wanted in lines and len(kept) == len(lines) - 1:
        return
    env_file.write_text("\n".join([*kept, wanted]) + "\n")
    print(f"{env_file.name}: {wanted} (the stand-in; delete the line to use Parliament's API)")


def main() -> None:
    point_env_file_at_stand_in(ROOT / ".env")
    server, url = fake_members_api.start(STAND_IN_PORT)
    print(f"Stand-in Members API at {url}: postcode SW1A 1AA finds an MP with an email address.")
    environment = {**os.environ, SETTING: url}
    try:
        subprocess.run([str(ROOT / ".venv/bin/mp-mailer"), "run"], env=environment, check=False)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
