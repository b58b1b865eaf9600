"""A stand-in for the Members API, serving the test fixtures, for offline runs and browser checks.

    python tools/fake_members_api.py --port 8765
    PARLIAMENT_API_URL=http://127.0.0.1:8765/api mp-mailer run

Postcodes it knows: SW1A 1AA (an MP with email), M1 1AE (email on the constituency office),
CF10 1AA (no email), IV1 1AA (a note sends constituents to the constituency office),
NN8 1AA (a suspended MP), PR7 1AA (the Speaker, no party colours), CO15 1AA (only a
non-parliament email), E8 1AA (vacant seat), SW1A 9ZZ (unknown). Anything else is unknown too.

Members/Search lists a whole House of current MPs (650 unless --members says otherwise): the
fixture pages' members, then copies of the real captures' shapes (a suspended MP, a null
nameAddressAs, null party colours) with their own ids and seats.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.members_api_fixtures import (  # noqa: E402
    POSTCODE_FIXTURES,
    load_fixture,
)

REAL_BASE = "https://members-api.parliament.uk/api"
PHOTO = """<svg xmlns="http://www.w3.org/2000/svg" width="192" height="192" viewBox="0 0 192 192">
<rect width="192" height="192" fill="#cbd5e1"/><circle cx="96" cy="74" r="38" fill="#64748b"/>
<ellipse cx="96" cy="178" rx="64" ry="52" fill="#64748b"/></svg>"""


HOUSE_SIZE = 650
# Real member shapes the generated MPs copy: suspended, nameAddressAs null, Independent, Speaker.
_MEMBER_SHAPES = (
    "members_1581_suspended.json",
    "constituency_search_inverness.json",
    "members_172.json",
    "modelled_member_467_speaker.json",
)


def _member_shape(name: str) -> dict[str, Any]:
    data = load_fixture(name)
    if "items" in data:
        value: dict[str, Any] = data["items"][0]["value"]["currentRepresentation"]["member"]
        return value
    return data


def current_members(count: int = HOUSE_SIZE) -> list[dict[str, Any]]:
    """`count` Members/Search items: the fixture pages' MPs, then real shapes with new ids."""
    items: list[dict[str, Any]] = [
        item
        for page in range(3)
        for item in load_fixture(f"schema_members_search_page_{page}.json")["items"]
    ]
    shapes = [_member_shape(name) for name in _MEMBER_SHAPES]
    number = 0
    while len(items) < count:
        item = copy.deepcopy(shapes[number % len(shapes)])
        member_id, seat_id = 10_000 + number, 20_000 + number
        member = item["value"]
        member["id"] = member_id
        member["thumbnailUrl"] = f"{REAL_BASE}/Members/{member_id}/Thumbnail"
        membership = member["latestHouseMembership"]
        membership["membershipFromId"] = seat_id
        membership["membershipFrom"] = f"Test Constituency {number}"
        for link in item["links"]:
            link["href"] = re.sub(r"/Members/\d+", f"/Members/{member_id}", link["href"])
        items.append(item)
        number += 1
    return items[:count]


def make_handler(
    base_url: str, house_size: int = HOUSE_SIZE, latency_seconds: float = 0.0
) -> type[BaseHTTPRequestHandler]:
    members = current_members(house_size)
    calls = itertools.count(1)

    def fixture(name: str) -> bytes:
        return json.dumps(load_fixture(name)).replace(REAL_BASE, base_url).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            # How many requests reached the API, for the benchmarks' calls per lookup.
            self.server.calls = next(calls)  # type: ignore[attr-defined]
            if latency_seconds:
                time.sleep(latency_seconds)
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            if parts.path == "/api/Location/Constituency/Search":
                postcode = query.get("searchText", [""])[0]
                found = POSTCODE_FIXTURES.get(postcode)
                name = found.search if found else "schema_constituency_search_empty.json"
                return self._send(200, fixture(name))
            contact = re.fullmatch(r"/api/Members/(\d+)/Contact", parts.path)
            if contact:
                for entry in POSTCODE_FIXTURES.values():
                    if str(entry.member_id) == contact.group(1) and entry.contact:
                        return self._send(200, fixture(entry.contact))
                return self._send(404, b'{"status": 404}')
            if re.fullmatch(r"/api/Members/\d+/Thumbnail", parts.path):
                return self._send(200, PHOTO.encode(), "image/svg+xml")
            if parts.path == "/api/Members/Search":
                skip = int(query.get("skip", ["0"])[0])
                take = min(int(query.get("take", ["20"])[0]), 20)
                page = {
                    "items": members[skip : skip + take],
                    "totalResults": len(members),
                    "resultContext": None,
                    "skip": skip,
                    "take": take,
                    "links": [],
                }
                return self._send(200, json.dumps(page).replace(REAL_BASE, base_url).encode())
            self._send(404, b'{"status": 404}')

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def start(
    port: int = 0, house_size: int = HOUSE_SIZE, latency_ms: float = 0.0
) -> tuple[ThreadingHTTPServer, str]:
    """Start in a background thread; returns the server and its API base URL.

    latency_ms delays every answer, as the real API's distance would (the benchmarks use 100)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
    base_url = f"http://127.0.0.1:{server.server_address[1]}/api"
    server.calls = 0  # type: ignore[attr-defined]
    server.RequestHandlerClass = make_handler(base_url, house_size, latency_ms / 1000)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, base_url


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--members", type=int, default=HOUSE_SIZE, help="current MPs to list")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before each answer")
    arguments = parser.parse_args()
    server, url = start(arguments.port, arguments.members, arguments.latency_ms)
    print(f"Fake Members API at {url}  (Ctrl-C to stop)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()
