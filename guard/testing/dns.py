"""A tiny authoritative DNS server on loopback, for testing bot verification offline."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator, Mapping

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class LocalDnsServer:
    """Answers PTR, A and AAAA questions from ``records`` over UDP on 127.0.0.1.

    Args:
        records: ``{(name, type): [values]}``, e.g. ``{("1.0.0.127.in-addr.arpa.", "PTR"):
            ["crawl-1.googlebot.com."], ("crawl-1.googlebot.com.", "A"): ["127.0.0.1"]}``.
            Names are absolute (end with a dot). Anything else gets NXDOMAIN.
        silent: never answer (a resolver that times out).

    Attributes:
        port: the UDP port it listens on.
        queries: how many questions it has received.
    """

    def __init__(
        self, records: Mapping[tuple[str, str], list[str]], *, silent: bool = False
    ) -> None:
        self.records = {(name.lower(), kind): values for (name, kind), values in records.items()}
        self.silent = silent
        self.queries = 0
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self.port: int = self._socket.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                data, peer = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.queries += 1
            if self.silent:
                continue
            self._socket.sendto(self._answer(data), peer)

    def _answer(self, data: bytes) -> bytes:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        for question in query.question:
            kind = dns.rdatatype.to_text(question.rdtype)
            values = self.records.get((question.name.to_text().lower(), kind))
            if values:
                response.answer.append(
                    dns.rrset.from_text_list(question.name, 60, "IN", kind, values)
                )
        if not response.answer:
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()

    @contextlib.contextmanager
    def running(self) -> Iterator[LocalDnsServer]:
        """Serve in a background thread for the duration of the block."""
        self._thread.start()
        try:
            yield self
        finally:
            self._stopping.set()
            self._thread.join(timeout=2)
            self._socket.close()
