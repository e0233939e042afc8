"""The sentence encoder in a process of its own, for the buyers' messages a server encodes beside its loop.

A forward pass of the encoder is some hundred numpy calls, and each one
gives Python's global lock away and must take it back. Run in a thread of
the server's process, the encoder waited for the lock after nearly every
call while the event loop worked (a batch of 11 texts: 9 ms of CPU over 21 ms),
and the loop sat idle a third of the time waiting for the batches (issue 16).
In a process of its own it shares no lock with the loop: the server's thread
that asks only sleeps on a pipe.

The child is ``python -m reception.faq.encoder_child``, started on the first
batch (`EncoderProcess.encode`). It loads the same model as `semantic.Encoder`
(which it uses) and answers on its stdin / stdout, one batch at a time (`serve`):

    request:  >I length, then that many bytes of UTF-8 JSON: a list of texts
    answer:   >i n, then n x 512 float32 (the rows, in this machine's byte order);
              n < 0 for an error, then >I length and a UTF-8 message

It ends when its stdin closes, so it never outlives the server (even one that
was killed).
"""

from __future__ import annotations

import json
import logging
import struct
import subprocess
import sys
import threading
from typing import IO, TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    import numpy

log = logging.getLogger("reception.faq")

_LENGTH = struct.Struct(">I")
_COUNT = struct.Struct(">i")
_DIM = 512  # semantic.DIM (not imported: the child imports this module first)
_FAILED = -1
_BROKEN = (OSError, EOFError, ValueError)  # the pipe or the child is gone (ValueError: a closed pipe)
CHILD = "reception.faq.encoder_child"  # the module the child runs


class EncoderGone(Exception):
    """The encoder's process could not be started, or died (its batch is not encoded)."""


class EncoderProcess:
    """The parent's side: one child, started on the first batch, asked one batch at a time."""

    def __init__(self) -> None:
        self._child: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> numpy.ndarray:
        """The rows of `texts` as the child encodes them. A child that died since its last batch is replaced
        and asked again; raises `EncoderGone` if a new child cannot be started or dies too, RuntimeError
        with its message if it fails to encode."""
        request = json.dumps(list(texts), ensure_ascii=False).encode("utf-8")
        with self._lock:
            if self._child is not None and self._child.poll() is None:
                try:
                    return _ask(self._child, request)
                except _BROKEN:
                    self._stop()
            try:
                return _ask(self._start(), request)
            except _BROKEN as exc:
                self._stop()
                raise EncoderGone(f"the encoder's process ended: {exc}") from exc

    def close(self) -> None:
        """End the child (it exits when its stdin closes)."""
        with self._lock:
            self._stop()

    @property
    def pid(self) -> int | None:
        """The running child's process id (None before the first batch)."""
        return self._child.pid if self._child is not None else None

    def _start(self) -> subprocess.Popen[bytes]:
        self._stop()
        try:
            self._child = subprocess.Popen([sys.executable, "-m", CHILD], stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE)
        except OSError as exc:
            raise EncoderGone(f"the encoder's process could not start: {exc}") from exc
        return self._child

    def _stop(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        for pipe in (child.stdin, child.stdout):
            if pipe is not None:
                pipe.close()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _ask(child: subprocess.Popen[bytes], request: bytes) -> numpy.ndarray:
    import numpy as np

    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(_LENGTH.pack(len(request)) + request)
    child.stdin.flush()
    (n,) = _COUNT.unpack(_read(child.stdout, _COUNT.size))
    if n == _FAILED:
        (length,) = _LENGTH.unpack(_read(child.stdout, _LENGTH.size))
        raise RuntimeError(_read(child.stdout, length).decode("utf-8", "replace"))
    rows = np.frombuffer(_read(child.stdout, n * _DIM * 4), dtype=np.float32).reshape(n, _DIM)
    return rows.copy()  # writable, like the rows encoded in this process


def _read(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if data is None or len(data) != size:
        raise EOFError(f"{len(data or b'')} of {size} bytes")
    return data


def serve(requests: IO[bytes], answers: IO[bytes], encode: Any) -> None:
    """The child's loop: answer every batch on `requests` with `encode(texts)`'s rows until the stream ends."""
    while True:
        header = requests.read(_LENGTH.size)
        if len(header) < _LENGTH.size:
            return
        (length,) = _LENGTH.unpack(header)
        try:
            texts = json.loads(_read(requests, length).decode("utf-8"))
            rows = encode(texts)
        except EOFError:
            return
        except Exception as exc:  # answered as an error: the parent's batch fails, the child goes on
            message = f"{type(exc).__name__}: {exc}".encode("utf-8")
            answers.write(_COUNT.pack(_FAILED) + _LENGTH.pack(len(message)) + message)
        else:
            answers.write(_COUNT.pack(len(rows)) + rows.astype("float32").tobytes())
        answers.flush()
