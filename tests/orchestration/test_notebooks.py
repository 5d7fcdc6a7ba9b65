"""How notebooks' kernels are started: over Unix sockets that concurrent kernels never share."""

from __future__ import annotations

import asyncio
import os

from study.orchestration.notebooks import _local_socket_kernel_manager


def test_every_kernel_manager_has_its_own_absolute_socket_prefix(tmp_path, monkeypatch):
    # jupyter_client's IPC default is "kernel-ipc" in the working folder for every kernel, numbered
    # by which socket files exist: two kernels started at once picked the same sockets
    monkeypatch.chdir(tmp_path)
    manager = _local_socket_kernel_manager()
    prefixes = {manager(kernel_name="python3").ip for _ in range(3)}
    assert len(prefixes) == 3
    assert all(os.path.isabs(p) and not p.startswith(str(tmp_path)) for p in prefixes)


def test_two_kernels_started_at_once_each_answer_their_own_client(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    manager = _local_socket_kernel_manager()

    async def start_and_ask(value: int) -> str:
        km = manager(kernel_name="python3")
        await km.start_kernel()
        try:
            kc = km.client()
            kc.start_channels()
            await kc.wait_for_ready(timeout=120)
            reply = await kc.execute_interactive(f"print({value})", timeout=60,
                                                 output_hook=lambda msg: record(value, msg))
            assert reply["content"]["status"] == "ok"
            kc.stop_channels()
            return km.ip
        finally:
            await km.shutdown_kernel(now=True)

    outputs: dict[int, str] = {}

    def record(value: int, msg: dict) -> None:
        if msg["msg_type"] == "stream":
            outputs[value] = outputs.get(value, "") + msg["content"]["text"]

    async def both():
        return await asyncio.gather(start_and_ask(1), start_and_ask(2))

    ips = asyncio.run(both())
    assert ips[0] != ips[1]
    assert outputs[1].strip() == "1" and outputs[2].strip() == "2"


def test_paths_beside_the_checkout_are_passed_and_shown_relative_to_it(tmp_path, monkeypatch):
    from study.orchestration import notebooks

    repo = tmp_path / "work" / "checkout"
    (repo / "params").mkdir(parents=True)
    monkeypatch.setattr(notebooks, "repo_root", lambda: repo)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert notebooks.portable(str(repo / "params" / "default.yaml")) == "params/default.yaml"
    assert notebooks.portable(repo / "reports") == "reports"
    assert notebooks.portable(str(tmp_path / "work" / "shared" / "data")) == "../shared/data"
    assert notebooks.portable("/elsewhere/reports") == "/elsewhere/reports"  # not beside it: as given
    assert notebooks.portable("params/smoke.yaml") == "params/smoke.yaml" and notebooks.portable(None) is None
    assert notebooks.portable(3) == 3
    assert notebooks.shown_path(tmp_path / "home" / ".cache" / "study" / "data") == "~/.cache/study/data"


def test_a_finished_kernel_is_shut_down_without_an_interrupt(monkeypatch):
    """jupyter_client interrupts a kernel before every shutdown, which a kernel between messages reports as an
    error in the study's output; an interrupt while the kernel runs still reaches it."""
    import asyncio

    from jupyter_client.manager import AsyncKernelManager

    from study.orchestration.notebooks import _local_socket_kernel_manager

    sent = []
    interrupt = AsyncKernelManager._async_interrupt_kernel

    async def recorded(self) -> None:
        sent.append("shutting down" if self.shutting_down else "running")
        await interrupt(self)

    monkeypatch.setattr(AsyncKernelManager, "_async_interrupt_kernel", recorded)

    async def main() -> None:
        km = _local_socket_kernel_manager()(kernel_name="python3")
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            await km._async_interrupt_kernel()
        finally:
            kc.stop_channels()
            await km.shutdown_kernel()

    asyncio.run(main())
    assert sent == ["running"]
