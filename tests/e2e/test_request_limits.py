"""Slow and oversized requests against a real ``timergate serve``, over raw sockets.

The server runs with small limits (half-second deadlines, 8 KiB of headers, 64 KiB of body)
so each test is quick. Every socket read has a deadline far above those limits: a server
that held a connection would fail the test instead of hanging it.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from serving import free_port, timergate_serve

MAX_HEADER_BYTES = 8192
MAX_BODY_BYTES = 65536
#: Longest any read waits: far longer than the server's half-second deadlines.
READ_DEADLINE = 10.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """(port, pid) of a server with small request limits."""
    directory = tmp_path_factory.mktemp("limits")
    port = free_port()
    environment = {
        "TIMERGATE_HEADER_TIMEOUT_SECONDS": "0.5",
        "TIMERGATE_BODY_TIMEOUT_SECONDS": "0.5",
        "TIMERGATE_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
        "TIMERGATE_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
    }
    database = f"sqlite:///{directory / 'limits.db'}"
    with timergate_serve(
        port, database, directory / "server.log", environment=environment
    ) as process:
        yield port, process.pid


def connect(port: int) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port))
    connection.settimeout(READ_DEADLINE)
    return connection


def read_until_closed(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def read_response(connection: socket.socket) -> bytes:
    """One response with a Content-Length, leaving the connection open."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.lower().split(b"\r\n")[1:]
        if line.startswith(b"content-length:")
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def assert_healthy(port: int) -> None:
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200


def test_headers_over_the_limit_get_431_and_the_connection_closes(server) -> None:
    """A request whose headers pass the bound is answered 431 and never reaches the app."""
    port, _ = server
    with connect(port) as connection:
        padding = b"x" * (2 * MAX_HEADER_BYTES)
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nCookie: " + padding + b"\r\n\r\n")
        answer = read_until_closed(connection)
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"connection: close" in answer
    assert answer.endswith(f"over {MAX_HEADER_BYTES} bytes.".encode())


def test_an_endless_header_is_cut_without_the_server_growing(server) -> None:
    """32 MB of a header line that never ends: the server answers 431, drops the rest, and its
    memory stays flat (it used to keep every byte, and more)."""
    port, pid = server
    before = rss_bytes(pid)
    answer = b""
    with connect(port) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ")
        try:
            for _ in range(512):
                connection.sendall(b"a" * 65536)
            answer = read_until_closed(connection)
        except ConnectionError:
            pass  # cut off while still sending: as good as an answer
    assert rss_bytes(pid) - before < 8 * 1024 * 1024
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")
    assert_healthy(port)


def test_headers_that_do_not_arrive_in_time_get_408_and_the_connection_closes(server) -> None:
    """Half a request head, then silence: 408 after the header deadline, then close."""
    port, _ = server
    with connect(port) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
        answer = read_until_closed(connection)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert answer.endswith(b"The request's headers did not arrive within 0.5 s.")


def test_a_connection_that_sends_nothing_is_closed_quietly(server) -> None:
    """An idle new connection is closed at the header deadline, without an answer."""
    port, _ = server
    with connect(port) as connection:
        assert read_until_closed(connection) == b""


def test_a_body_that_does_not_arrive_in_time_gets_408_and_the_connection_closes(
    server,
) -> None:
    """A POST that promises 100 bytes and sends 9: 408 after the body deadline, then close."""
    port, _ = server
    with connect(port) as connection:
        connection.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"query":'
        )
        answer = read_until_closed(connection)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert answer.endswith(b"The request body did not arrive within 0.5 s.")


def test_a_body_trickling_after_the_answer_is_cut(server) -> None:
    """A route that answers without reading the body still does not keep its trickle."""
    port, _ = server
    with connect(port) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nab")
        answer = read_until_closed(connection)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b'{"status":"ok"}')


def test_the_header_deadline_runs_from_each_request_not_the_connection(server) -> None:
    """A kept-alive connection idle longer than the header deadline still serves its next
    request (only the keep-alive timeout closes an idle connection)."""
    port, _ = server
    request = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
    with connect(port) as connection:
        connection.sendall(request)
        assert read_response(connection).startswith(b"HTTP/1.1 200 OK\r\n")
        time.sleep(1.0)  # twice the header deadline, well inside keep-alive's 5 s
        connection.sendall(request)
        assert read_response(connection).startswith(b"HTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize("accept", ["text/event-stream", "multipart/mixed"])
def test_streaming_requests_over_the_body_limit_get_413(server, accept: str) -> None:
    """Bodies for server-sent events and multipart meet the body limit, declared or chunked."""
    port, _ = server
    query = b'{"query": "subscription { timerEvents { type } }", "x": "'
    body = query + b"a" * MAX_BODY_BYTES + b'"}'
    with connect(port) as connection:
        connection.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            + f"Accept: {accept}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        )
        answer = read_until_closed(connection)  # refused before the body is sent
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b'"code":"BAD_REQUEST"' in answer

    def chunks() -> Iterator[bytes]:
        yield query
        for _ in range(4):
            yield b"a" * (MAX_BODY_BYTES // 2)
        yield b'"}'

    response = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        content=chunks(),
        headers={"Content-Type": "application/json", "Accept": accept},
        timeout=READ_DEADLINE,
    )
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413
