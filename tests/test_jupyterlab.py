"""JupyterLab, as ``make lab`` starts it: the notebooks open on the project's kernel and run.

A real headless JupyterLab server; notebook 03 is opened through its REST API, a kernel session is
started for it, and its parameters and import cells are executed over the kernel's websocket.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.slow
NOTEBOOK = "notebooks/03_srl_transfer.ipynb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    token, port = secrets.token_hex(16), _free_port()
    home = tmp_path_factory.mktemp("lab")
    args = ["--no-browser", f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={REPO}",
            *(["--allow-root"] if os.geteuid() == 0 else [])]
    log = home / "lab.log"
    with open(log, "w") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "jupyterlab", *args], cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=log_file, env={**os.environ, "JUPYTER_RUNTIME_DIR": str(home / "runtime")})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            _api(base, token, "GET", "/api/status")
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"JupyterLab did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
    yield base, token
    proc.terminate()
    proc.wait(timeout=30)


def _api(base: str, token: str, method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        text = resp.read().decode()
    return json.loads(text) if text else {}


def _execute(base: str, token: str, kernel_id: str, code: str, timeout_s: float = 180) -> tuple[str, str, str]:
    """Run ``code`` on the kernel over its websocket; (reply status, stdout, stderr)."""
    from tornado.ioloop import IOLoop
    from tornado.websocket import websocket_connect

    async def run() -> tuple[str, str, str]:
        ws_url = base.replace("http", "ws") + f"/api/kernels/{kernel_id}/channels?token={token}"
        conn = await websocket_connect(ws_url)
        msg_id = uuid.uuid4().hex
        await conn.write_message(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex, "msg_type":
                       "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        streams: dict[str, list[str]] = {"stdout": [], "stderr": []}
        # iopub and shell are separate channels: the reply can overtake the last stream messages, and
        # only iopub's "idle" for this request says that all of its output has been sent (as nbclient waits)
        status, idle = None, False
        deadline = time.monotonic() + timeout_s
        while (status is None or not idle) and time.monotonic() < deadline:
            raw = await conn.read_message()
            if raw is None:
                break
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                streams[msg["content"]["name"]].append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                streams["stdout"].append(f"{msg['content']['ename']}: {msg['content']['evalue']}")
            elif msg["msg_type"] == "execute_reply":
                status = msg["content"]["status"]
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
        conn.close()
        return status or "timeout", "".join(streams["stdout"]), "".join(streams["stderr"])

    return IOLoop.current().run_sync(run)


def test_notebook_03_opens_on_the_project_kernel_and_its_cells_run(lab):
    base, token = lab
    notebook = _api(base, token, "GET", f"/api/contents/{NOTEBOOK}")
    assert notebook["type"] == "notebook"
    code_cells = ["".join(c["source"]) for c in notebook["content"]["cells"] if c["cell_type"] == "code"]
    spec = _api(base, token, "GET", "/api/kernelspecs")["kernelspecs"]["python3"]["spec"]
    assert spec["argv"][0] in {sys.executable, "python"}, spec["argv"]  # the project's environment
    session = _api(base, token, "POST", "/api/sessions",
                   {"path": NOTEBOOK, "type": "notebook", "name": "03", "kernel": {"name": "python3"}})
    try:
        kernel = session["kernel"]["id"]
        status, stdout, _ = _execute(base, token, kernel, "\n".join(code_cells[:2])
                                     + "\nimport study, sys\nprint(study.__file__, sys.executable)")
        assert status == "ok", stdout
        assert str(REPO / "src" / "study") in stdout
        # run by hand, the training loop's progress is a text bar in the cell, not a widget warning
        status, stdout, stderr = _execute(base, token, kernel, "from study.infra.live import live\n"
                                          "bar = live()\nbar.phase('SRL training', total=40)\n"
                                          "for step in range(1, 41):\n    bar.update(step)\nbar.close()")
        assert status == "ok", stdout + stderr
        assert "SRL training" in stderr and "40/40" in stderr
        assert "TqdmWarning" not in stderr + stdout and "IProgress" not in stderr + stdout
    finally:
        _api(base, token, "DELETE", f"/api/sessions/{session['id']}")
