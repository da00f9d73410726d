"""A real server on loopback: `whoknows serve`, then HTTP requests to it."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from conftest import write


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def wait_ready(base: str, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if get(f"{base}/readyz")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{base} was not ready within {timeout} s")


def test_serve_answers_on_loopback(tmp_path):
    write(tmp_path / "corpus", "a.md", "---\nid: kb-1\ntitle: Kafka retention\n---\nkafka\n")
    env = {**os.environ, "WHOKNOWS_EMBEDDER": "hashing-2048",
           "WHOKNOWS_DATA_DIR": str(tmp_path / "data")}
    cli = [sys.executable, "-c", "from api.cli import main; main()"]
    subprocess.run([*cli, "ingest", str(tmp_path / "corpus")], env=env, check=True,
                   capture_output=True)
    port = free_port()
    server = subprocess.Popen([*cli, "serve", "--host", "0.0.0.0", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, 30)
        status, body = get(f"{base}/api/search?q=kafka")
        assert status == 200 and body["articles"][0]["id"] == "kb-1"
        status, body = get(f"{base}/api/documents/nope")
        assert status == 404 and set(body) == {"error", "detail"}
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    # With no keys it refuses to listen beyond this machine, and says it runs open.
    assert "binding 127.0.0.1 instead of 0.0.0.0" in output
    assert "running open" in output


def test_serve_with_two_processes_answers_and_keeps_its_settings(tmp_path):
    """`serve --workers 2`: each process builds its app from the settings the command
    hands down (the data folder, the reindex roots, the address for open mode)."""
    write(tmp_path / "corpus", "a.md", "---\nid: kb-1\ntitle: Kafka retention\n---\nkafka\n")
    write(tmp_path / "root" / "team", "b.md", "---\nid: kb-2\ntitle: Lag\n---\nconsumer lag\n")
    env = {**os.environ, "WHOKNOWS_EMBEDDER": "hashing-2048", "WHOKNOWS_DATA_DIR": ""}
    cli = [sys.executable, "-c", "from api.cli import main; main()"]
    data = ["--data-dir", str(tmp_path / "data")]
    subprocess.run([*cli, "ingest", str(tmp_path / "corpus"), *data], env=env, check=True,
                   capture_output=True)
    port = free_port()
    server = subprocess.Popen([*cli, "serve", "--port", str(port), "--workers", "2", *data,
                               "--reindex-root", str(tmp_path / "root")], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, 60)
        for _ in range(4):  # whichever process answers
            status, body = get(f"{base}/api/search?q=kafka")
            assert status == 200 and body["articles"][0]["id"] == "kb-1"
        request = urllib.request.Request(
            f"{base}/api/admin/reindex", method="POST", headers={"content-type":
                                                                 "application/json"},
            data=json.dumps({"source": str(tmp_path / "root" / "team")}).encode())
        with urllib.request.urlopen(request, timeout=10) as r:
            assert r.status == 202  # the root given on the command line reached the process
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_listening_socket_of_several_processes_is_tcp():
    """Accepted connections inherit it: without IPPROTO_TCP asyncio leaves Nagle on, and
    each keep-alive request waits for a delayed ACK (uvicorn #3149)."""
    import uvicorn

    from api.cli import tcp_listener

    listener = tcp_listener(uvicorn.Config("api.app:app_from_env", host="127.0.0.1",
                                           port=free_port()))
    try:
        assert listener.proto == socket.IPPROTO_TCP
    finally:
        listener.close()
