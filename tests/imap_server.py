"""A minimal IMAP4rev1 server on loopback, enough for imaplib's LOGIN, SELECT, UID SEARCH UNSEEN,
UID FETCH and UID STORE: the mailbox `mp-mailer inbound --imap` polls in tests."""

from __future__ import annotations

import re
import socketserver
import threading
from typing import Any

_COMMAND = re.compile(rb"(?P<tag>\S+) (?P<name>[A-Za-z]+)(?: (?P<rest>.*))?")


class ImapTestServer:
    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password
        self.messages: dict[int, bytes] = {}
        self.seen: set[int] = set()
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ImapTestServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, raw: bytes) -> int:
        uid = len(self.messages) + 1
        self.messages[uid] = raw
        return uid

    def _handler(self) -> type[socketserver.StreamRequestHandler]:
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"* OK IMAP4rev1 test server ready\r\n")
                while line := self.rfile.readline():
                    match = _COMMAND.match(line.rstrip(b"\r\n"))
                    if match is None:
                        self.wfile.write(b"* BAD what\r\n")
                        continue
                    if not server._answer(
                        self.wfile, match["tag"], match["name"].upper(), match["rest"] or b""
                    ):
                        return

        return Handler

    def _answer(self, out: Any, tag: bytes, name: bytes, rest: bytes) -> bool:
        if name == b"CAPABILITY":
            out.write(b"* CAPABILITY IMAP4rev1\r\n")
        elif name == b"LOGIN":
            given = rest.replace(b'"', b"").split()
            if given != [self.username.encode(), self.password.encode()]:
                out.write(tag + b" NO [AUTHENTICATIONFAILED] Invalid credentials\r\n")
                return True
        elif name == b"SELECT":
            out.write(b"* %d EXISTS\r\n* FLAGS (\\Seen)\r\n" % len(self.messages))
        elif name == b"UID":
            self._uid_command(out, rest)
        elif name == b"LOGOUT":
            out.write(b"* BYE\r\n" + tag + b" OK LOGOUT completed\r\n")
            return False
        out.write(tag + b" OK " + name + b" completed\r\n")
        return True

    def _uid_command(self, out: Any, rest: bytes) -> None:
        words = rest.split()
        command, uid = words[0].upper(), int(words[1]) if words[1:] and words[1].isdigit() else 0
        if command == b"SEARCH":
            unseen = [str(u).encode() for u in self.messages if u not in self.seen]
            out.write(b"* SEARCH " + b" ".join(unseen) + b"\r\n")
        elif command == b"FETCH" and uid in self.messages:
            raw = self.messages[uid]
            out.write(b"* %d FETCH (UID %d BODY[] {%d}\r\n" % (uid, uid, len(raw)) + raw + b")\r\n")
        elif command == b"STORE" and b"\\Seen" in rest:
            self.seen.add(uid)
