"""The TLS presentation language (RFC 5246 §4, RFC 8446 §3) as a byte buffer.

A :class:`Buffer` reads (``pull_*``) and writes (``push_*``) the fixed-width integers and
length-prefixed vectors that every TLS structure is made of. Each ``push_*`` is the mirror
image of its ``pull_*``. Reading past the end, or leaving bytes unread inside a
length-prefixed block, raises :class:`~httpslab.errors.DecodeError`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import TypeVar

from .errors import DecodeError, LocalProtocolError

__all__ = ["Buffer"]

T = TypeVar("T")

_MAX = {1: 0xFF, 2: 0xFFFF, 3: 0xFFFFFF, 4: 0xFFFFFFFF}


class Buffer:
    """A cursor over bytes being read, or a growing byte string being written.

    ``Buffer(data=b"...")`` reads; ``Buffer()`` writes. ``data`` is everything written (or
    the whole input), ``tell()`` the cursor, ``eof()`` whether everything was read.
    """

    __slots__ = ("_data", "_end", "_pos")

    def __init__(self, data: bytes = b"") -> None:
        # Reading ``bytes`` needs no copy (they are immutable): slices of it are the values.
        # Anything else (bytearray, memoryview) is copied once, so that the caller may reuse
        # it; a buffer that is written to becomes a bytearray on its first push.
        self._data: bytes | bytearray = data if type(data) is bytes else bytearray(data)
        self._pos = 0
        self._end = len(self._data)

    # -- state ---------------------------------------------------------------------
    @property
    def data(self) -> bytes:
        """All bytes in the buffer (what was written, or the whole input)."""
        return bytes(self._data)

    def tell(self) -> int:
        """Current read position."""
        return self._pos

    def remaining(self) -> int:
        """Bytes left to read (inside the current block, if any)."""
        return self._end - self._pos

    def eof(self) -> bool:
        """True when everything (in the current block) was read."""
        return self._pos >= self._end

    def expect_eof(self, what: str = "message") -> None:
        """Raise DecodeError unless every byte was read."""
        if self._pos != self._end:
            raise DecodeError(f"{self._end - self._pos} unexpected trailing byte(s) after the {what}")

    # -- reading -------------------------------------------------------------------
    def pull_bytes(self, length: int) -> bytes:
        """Read exactly ``length`` bytes."""
        if length < 0 or self._pos + length > self._end:
            raise DecodeError(
                f"truncated: wanted {length} byte(s) at offset {self._pos}, "
                f"{max(self._end - self._pos, 0)} left"
            )
        value = self._data[self._pos : self._pos + length]
        self._pos += length
        return value if type(value) is bytes else bytes(value)

    def pull_rest(self) -> bytes:
        """Read every byte that is left (in the current block)."""
        return self.pull_bytes(self._end - self._pos)

    def _pull_uint(self, size: int) -> int:
        pos = self._pos
        if pos + size > self._end:
            raise DecodeError(
                f"truncated: wanted {size} byte(s) at offset {pos}, {max(self._end - pos, 0)} left"
            )
        self._pos = pos + size
        return int.from_bytes(self._data[pos : pos + size], "big")

    def pull_uint8(self) -> int:
        pos = self._pos
        if pos >= self._end:
            raise DecodeError(f"truncated: wanted 1 byte(s) at offset {pos}, {max(self._end - pos, 0)} left")
        self._pos = pos + 1
        return self._data[pos]

    def pull_uint16(self) -> int:
        pos = self._pos
        if pos + 2 > self._end:
            raise DecodeError(f"truncated: wanted 2 byte(s) at offset {pos}, {max(self._end - pos, 0)} left")
        self._pos = pos + 2
        data = self._data
        return (data[pos] << 8) | data[pos + 1]

    def pull_uint24(self) -> int:
        return self._pull_uint(3)

    def pull_uint32(self) -> int:
        return self._pull_uint(4)

    def pull_uint64(self) -> int:
        return self._pull_uint(8)

    def pull_opaque(self, length_size: int) -> bytes:
        """Read ``opaque x<0..2^(8*length_size)-1>``: a length, then that many bytes."""
        pos = self._pos
        if pos + length_size > self._end:
            raise DecodeError(
                f"truncated: wanted {length_size} byte(s) at offset {pos}, {max(self._end - pos, 0)} left"
            )
        data = self._data
        start = pos + length_size
        length = int.from_bytes(data[pos:start], "big")
        if start + length > self._end:
            raise DecodeError(
                f"truncated: wanted {length} byte(s) at offset {start}, {self._end - start} left"
            )
        self._pos = start + length
        value = data[start : start + length]
        return value if type(value) is bytes else bytes(value)

    def pull_block(self, length_size: int) -> AbstractContextManager[int]:
        """Read a length prefix and confine reads to that many bytes.

        On exit every byte of the block must have been read, or DecodeError is raised.
        """
        length = self._pull_uint(length_size)
        if self._pos + length > self._end:
            raise DecodeError(
                f"truncated: a block of {length} byte(s) at offset {self._pos}, {self._end - self._pos} left"
            )
        block = _PullBlock(self, length, self._end)
        self._end = self._pos + length
        return block

    def pull_list(self, length_size: int, pull_item: Callable[[Buffer], T]) -> list[T]:
        """Read a length-prefixed vector of items, each read by ``pull_item(self)``."""
        items: list[T] = []
        with self.pull_block(length_size):
            while not self.eof():
                items.append(pull_item(self))
        return items

    # -- writing -------------------------------------------------------------------
    def push_bytes(self, value: bytes) -> None:
        data = self._data
        if type(data) is not bytearray:  # a buffer made for reading, now written to
            data = self._data = bytearray(data)
        data += value
        self._end = len(data)

    def _push_uint(self, size: int, value: int) -> None:
        if not 0 <= value < (1 << (8 * size)):
            raise LocalProtocolError(f"{value} does not fit in {size} byte(s)")
        self.push_bytes(value.to_bytes(size, "big"))

    def push_uint8(self, value: int) -> None:
        if not 0 <= value <= 0xFF:
            raise LocalProtocolError(f"{value} does not fit in 1 byte(s)")
        data = self._data
        if type(data) is not bytearray:
            data = self._data = bytearray(data)
        data.append(value)
        self._end = len(data)

    def push_uint16(self, value: int) -> None:
        if not 0 <= value <= 0xFFFF:
            raise LocalProtocolError(f"{value} does not fit in 2 byte(s)")
        data = self._data
        if type(data) is not bytearray:
            data = self._data = bytearray(data)
        data += value.to_bytes(2, "big")
        self._end = len(data)

    def push_uint24(self, value: int) -> None:
        self._push_uint(3, value)

    def push_uint32(self, value: int) -> None:
        self._push_uint(4, value)

    def push_uint64(self, value: int) -> None:
        self._push_uint(8, value)

    def push_opaque(self, length_size: int, value: bytes) -> None:
        """Write ``opaque x<..>``: the length in ``length_size`` bytes, then the bytes."""
        self._push_uint(length_size, len(value))
        self.push_bytes(value)

    def push_block(self, length_size: int) -> AbstractContextManager[None]:
        """Reserve a length prefix, let the caller write the body, then fill the length in."""
        start = len(self._data)
        self.push_bytes(bytes(length_size))
        return _PushBlock(self, length_size, start)

    def push_list(self, length_size: int, push_item: Callable[[Buffer, T], None], items: Sequence[T]) -> None:
        """Write a length-prefixed vector of items, each written by ``push_item(self, item)``."""
        with self.push_block(length_size):
            for item in items:
                push_item(self, item)


# The two block context managers are small classes rather than @contextmanager generators:
# they are entered for every length-prefixed vector of every message, and a generator-based
# context manager costs several times more per use.


class _PullBlock:
    """What :meth:`Buffer.pull_block` returns: restores the outer limit, checks the block was read."""

    __slots__ = ("_buf", "_length", "_outer_end")

    def __init__(self, buf: Buffer, length: int, outer_end: int) -> None:
        self._buf, self._length, self._outer_end = buf, length, outer_end

    def __enter__(self) -> int:
        return self._length

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        buf = self._buf
        left = buf._end - buf._pos
        buf._end = self._outer_end
        if exc_type is None and left:
            raise DecodeError(f"{left} byte(s) left unread in a block of {self._length}")


class _PushBlock:
    """What :meth:`Buffer.push_block` returns: fills the reserved length prefix in on exit."""

    __slots__ = ("_buf", "_length_size", "_start")

    def __init__(self, buf: Buffer, length_size: int, start: int) -> None:
        self._buf, self._length_size, self._start = buf, length_size, start

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            return
        data, size, start = self._buf._data, self._length_size, self._start
        length = len(data) - start - size
        if length > _MAX[size]:
            raise LocalProtocolError(f"a block of {length} byte(s) does not fit a {size}-byte length")
        data[start : start + size] = length.to_bytes(size, "big")  # type: ignore[index]
