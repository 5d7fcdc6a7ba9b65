"""Execute parameterised notebooks with papermill and render them to HTML with nbconvert.

Executed notebooks are written to a temporary name and renamed into place, so a killed run never
leaves a half-written notebook that looks finished. A failed execution keeps the partial notebook
(``*.failed.ipynb``) with the error for inspection.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from study.infra.atomic import atomic_path, write_text
from study.infra.errors import StudyError
from study.infra.paths import repo_root

NOTEBOOK_DIR = "notebooks"
#: set to 1 by ``study run --verbose``: every notebook's cell output is streamed to the terminal too
VERBOSE_ENV = "STUDY_VERBOSE"


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV) == "1"


def _local_socket_kernel_manager():
    """A kernel manager whose kernels talk over Unix sockets beside their connection file, not TCP.

    The kernel and papermill are on the same machine: a socket in the user's runtime folder opens no
    port, and ipykernel has nothing to warn about (over TCP it prints "Kernel is running over TCP
    without encryption" for every notebook).
    """
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir
    from traitlets import CaselessStrEnum

    class LocalSocketKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        def _ip_default(self) -> str:
            # a socket prefix of its own per kernel: jupyter_client's default is "kernel-ipc" in the
            # working folder, with the sockets numbered 1, 2, ... by which files exist, so kernels
            # started at once (submitit jobs of one study) raced to the same sockets and a client
            # read another kernel's messages ("Invalid Signature")
            runtime = jupyter_runtime_dir()
            os.makedirs(runtime, exist_ok=True)
            return os.path.join(runtime, f"study-{uuid.uuid4().hex[:16]}-ipc")

        async def _async_interrupt_kernel(self) -> None:
            # jupyter_client interrupts every kernel before its shutdown request; a notebook that has
            # finished has nothing to stop, and a kernel caught between messages then prints
            # "[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel" into the study's output
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

    return LocalSocketKernelManager


def _interruptible(execute):
    """Run ``execute()`` so that Ctrl-C stops it: KeyboardInterrupt here, the kernel killed.

    In the main thread nbclient replaces the SIGINT handler with one that only shuts the kernel
    down, and depending on the moment the notebook then finishes "successfully" and the study goes
    on. Run in a worker thread, nbclient installs no handler; SIGINT reaches this (main) thread as
    KeyboardInterrupt, the kernel processes are killed, the worker fails fast and the interrupt
    propagates to the CLI (exit 130, "re-run to resume").
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        return execute()
    import concurrent.futures as cf

    import psutil

    pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="papermill")
    future = pool.submit(execute)
    try:
        return future.result()
    except KeyboardInterrupt:
        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        with contextlib.suppress(BaseException):  # the execution dies with its kernel; the interrupt matters
            future.result(timeout=60)
        raise
    finally:
        pool.shutdown(wait=False)


def notebook_path(name: str) -> Path:
    """The source notebook ``notebooks/<name>.ipynb`` of the checkout."""
    path = repo_root() / NOTEBOOK_DIR / f"{name}.ipynb"
    if not path.is_file():
        raise StudyError(f"{path}: notebook not found")
    return path


def portable(value):
    """A path parameter as the report shows it: relative to the checkout where it lies beside it.

    The kernels run in the repository root, so ``params/default.yaml`` and ``../shared/data`` name
    the same files as the absolute paths, and a published notebook names no machine's folders.
    Anything else (other values, paths elsewhere) is returned as it is.
    """
    if not isinstance(value, str | Path) or not Path(value).is_absolute():
        return value
    root = repo_root().resolve()
    path = Path(value).resolve()
    if path != root.parent and not path.is_relative_to(root.parent):
        return str(value)
    return os.path.relpath(path, root)


def shown_path(value: str | Path) -> str:
    """A path as a report prints it: :func:`portable`, else ``~/...`` under the home folder."""
    shown = str(portable(str(value)))
    home = Path.home().resolve()
    if Path(shown).is_absolute() and Path(shown).resolve().is_relative_to(home):
        return "~/" + str(Path(shown).resolve().relative_to(home))
    return shown


def _portable_metadata(notebook: Path) -> None:
    """Papermill records the input and output paths it was given: record them relative to the checkout.

    (The parameters it records are already the portable ones :func:`execute_notebook` passed.)
    """
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    meta = nb.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if key in meta:
            meta[key] = portable(meta[key])
    nbformat.write(nb, str(notebook))


def execute_notebook(name: str, out_path: Path, parameters: dict, progress: bool = False) -> Path:
    """Run ``notebooks/<name>.ipynb`` with ``parameters``; write the executed copy to ``out_path``.

    Path parameters are passed relative to the checkout where they lie beside it (:func:`portable`).
    """
    import papermill as pm

    parameters = {k: portable(v) for k, v in parameters.items()}

    if verbose():
        import logging

        logging.basicConfig(level=logging.INFO, format="%(message)s")
    src = notebook_path(name)
    out_path = Path(out_path)
    failed = out_path.with_suffix(".failed.ipynb")
    env_backup = os.environ.get("MPLBACKEND")
    # figures must render inline into the executed notebook (an inherited Agg backend would hide them)
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        with atomic_path(out_path) as tmp:
            tmp_nb = tmp.with_suffix(".ipynb")
            try:
                _interruptible(lambda: pm.execute_notebook(
                    str(src), str(tmp_nb), parameters=parameters, cwd=str(repo_root()),
                    kernel_name="python3", progress_bar=progress, log_output=verbose(),
                    kernel_manager_class=_local_socket_kernel_manager(),
                ))
            except pm.PapermillExecutionError as exc:
                if tmp_nb.exists():
                    os.replace(tmp_nb, failed)
                raise StudyError(
                    f"notebook {src.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}; "
                    f"the partial notebook is {failed}"
                ) from exc
            _portable_metadata(tmp_nb)
            os.replace(tmp_nb, tmp)
    finally:
        if env_backup is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = env_backup
    if failed.exists():
        failed.unlink()
    return out_path


def render_html(notebook: Path, html_path: Path | None = None) -> Path:
    """Render an executed notebook to HTML with code cells hidden and figures inline."""
    import nbformat
    from nbconvert import HTMLExporter

    notebook = Path(notebook)
    html_path = Path(html_path or notebook.with_suffix(".html"))
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    title = notebook.stem.replace("_", " ")
    body, _ = exporter.from_notebook_node(nbformat.read(str(notebook), as_version=4),
                                          resources={"metadata": {"name": title}})
    write_text(html_path, body)
    return html_path
