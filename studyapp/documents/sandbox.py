"""Run the code that touches an uploaded PDF in a child process under hard resource limits.

BullMQ calls this a sandboxed processor. A PDF of a few KB can inflate to gigabytes inside a parser or
renderer (pypdf, pdfium, tesseract): in the worker's own process that takes the machine's memory, and
a crash in C code takes the worker with it. So parsing, rendering and OCR run in a forked child with
`setrlimit` limits on address space, CPU time and open files (tesseract, started by the child,
inherits them). The child streams its results and progress back over a pipe; the caller sees an
ordinary generator. A child that hits a limit or dies ends the work with a PdfTooDemanding error a
student can read, and the worker goes on to its next job.

Fork, not spawn: the child starts at once with the parent's modules loaded, and nothing is pickled on
the way in. It never touches the parent's database or Redis connections and leaves with os._exit.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import resource
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from studyapp.core.progress import ProgressCallback, no_progress
from studyapp.documents.errors import PdfTooDemanding

log = logging.getLogger(__name__)

T = TypeVar("T")
MB = 1024 * 1024
_PR_SET_PDEATHSIG = 1
_RESOURCE_SIGNALS = {signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGTRAP}


@dataclass(frozen=True)
class SandboxLimits:
    """What one extraction may use. The address-space limit is this much above what the forked child
    already maps (the worker's own Python and libraries), so it bounds what the PDF costs."""

    memory_mb: int = 512
    cpu_s: int = 1800
    open_files: int = 128


def sandboxed(produce: Callable[..., Iterator[T]], limits: SandboxLimits | None, *,
              progress: ProgressCallback = no_progress, **kwargs: Any) -> Iterator[T]:
    """Yield what `produce(progress=..., **kwargs)` yields, computed in a limited child process.

    With `limits` None the generator runs here, unsandboxed (tests of the extractor itself).
    Errors raised in the child are raised here; hitting a limit raises PdfTooDemanding.
    """
    if limits is None:
        yield from produce(progress=progress, **kwargs)
        return
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(receiver, sender, limits, produce, kwargs), daemon=True,
                            name="pdf-sandbox")
    child.start()
    sender.close()
    try:
        yield from _relay(receiver, child, limits, progress)
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()  # the caller stopped early (an error, a fan-out decision): the rest is not wanted
        child.join(10)
        log.debug("pdf sandbox: child %s ended with %s; children's peak RSS %d MB", child.pid, child.exitcode,
                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)


def _relay(receiver, child, limits: SandboxLimits, progress: ProgressCallback) -> Iterator:
    while True:
        try:
            message = receiver.recv()
        except EOFError:  # the child died without a word: killed for a limit, or crashed in C code
            child.join(10)
            raise _death_error(child.exitcode, limits) from None
        kind = message[0]
        if kind == "item":
            yield message[1]
        elif kind == "progress":
            progress(message[1], **message[2])
        elif kind == "error":
            raise message[1]
        elif kind == "limit":
            raise _limit_error(message[1], limits)
        else:  # "done"
            return


def _child(receiver, sender, limits: SandboxLimits, produce: Callable[..., Iterator], kwargs: dict) -> None:
    # The child must never outlive its parent: its copy of the pipe's read end would keep a send
    # blocked forever once the parent is gone, and the database sockets it inherited would keep
    # the parent's sessions open.
    receiver.close()
    _die_with_parent()
    _apply_limits(limits)

    def progress(stage: str, **details: Any) -> None:
        sender.send(("progress", stage, details))

    try:
        for item in produce(progress=progress, **kwargs):
            sender.send(("item", item))
        sender.send(("done",))
    except MemoryError:
        _send_quietly(sender, ("limit", "memory"))
    except RecursionError:
        _send_quietly(sender, ("limit", "depth"))
    except Exception as exc:
        _send_quietly(sender, ("error", exc))
    finally:
        sender.close()


def _send_quietly(sender, message: tuple) -> None:
    try:
        sender.send(message)
    except Exception:  # an exception that cannot be pickled, or no memory left to pickle it
        try:
            sender.send(("limit", "memory") if message[1] == "memory" else ("error", RuntimeError(str(message[1]))))
        except Exception:
            pass  # the parent sees the pipe close and reports the child's death


def _die_with_parent() -> None:
    """SIGKILL this process when its parent dies (Linux prctl PR_SET_PDEATHSIG), and at once if the
    parent is already gone."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the broken pipe still ends the child at its next send
        return
    if os.getppid() != parent:
        os._exit(1)


def _apply_limits(limits: SandboxLimits) -> None:
    mapped = _mapped_bytes()
    address_space = mapped + limits.memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    # SIGXCPU at the soft limit, SIGKILL a little later if it is ignored.
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 5))
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    files = limits.open_files if hard == resource.RLIM_INFINITY else min(limits.open_files, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))


def _mapped_bytes() -> int:
    """The address space this process maps now (VmSize)."""
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _limit_error(kind: str, limits: SandboxLimits) -> PdfTooDemanding:
    if kind == "depth":
        return PdfTooDemanding("nests its structure too deeply to be read")
    if kind == "cpu":
        return PdfTooDemanding(f"needs more than {limits.cpu_s} s of processing time")
    return PdfTooDemanding(f"expands to more than {limits.memory_mb} MB of data")


def _death_error(exitcode: int | None, limits: SandboxLimits) -> PdfTooDemanding:
    if exitcode is not None and exitcode < 0:
        if -exitcode == signal.SIGXCPU:
            return _limit_error("cpu", limits)
        if -exitcode in _RESOURCE_SIGNALS:
            log.warning("pdf sandbox: the child was ended by signal %d", -exitcode)
            return _limit_error("memory", limits)
    log.warning("pdf sandbox: the child exited with %s without an answer", exitcode)
    return _limit_error("memory", limits)
