"""The presentation-language Buffer (RFC 5246 §4): pull is the mirror image of push."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpslab.errors import DecodeError, LocalProtocolError, TLSError
from httpslab.wire import Buffer


@pytest.mark.parametrize(
    ("size", "value", "encoded"),
    [
        (1, 0xAB, "ab"),
        (2, 0x0303, "0303"),
        (3, 0x010203, "010203"),
        (4, 0xDEADBEEF, "deadbeef"),
        (8, 1, "0000000000000001"),
    ],
)
def test_uints_are_big_endian_and_round_trip(size: int, value: int, encoded: str) -> None:
    push = {1: "push_uint8", 2: "push_uint16", 3: "push_uint24", 4: "push_uint32", 8: "push_uint64"}
    pull = {1: "pull_uint8", 2: "pull_uint16", 3: "pull_uint24", 4: "pull_uint32", 8: "pull_uint64"}
    buf = Buffer()
    getattr(buf, push[size])(value)
    assert buf.data.hex() == encoded
    reader = Buffer(buf.data)
    assert getattr(reader, pull[size])() == value
    assert reader.eof()


def test_uint_that_does_not_fit_is_a_local_error() -> None:
    with pytest.raises(LocalProtocolError):
        Buffer().push_uint8(256)
    with pytest.raises(LocalProtocolError):
        Buffer().push_uint16(-1)


@pytest.mark.parametrize("length_size", [1, 2, 3])
def test_opaque_vectors(length_size: int) -> None:
    buf = Buffer()
    buf.push_opaque(length_size, b"hello")
    assert buf.data == (5).to_bytes(length_size, "big") + b"hello"
    assert Buffer(buf.data).pull_opaque(length_size) == b"hello"


def test_opaque_too_long_for_its_length_prefix() -> None:
    with pytest.raises(LocalProtocolError):
        Buffer().push_opaque(1, bytes(256))


def test_blocks_fill_in_their_length_and_nest() -> None:
    buf = Buffer()
    with buf.push_block(2):
        buf.push_uint8(7)
        with buf.push_block(1):
            buf.push_bytes(b"ab")
    assert buf.data.hex() == "0004" + "07" + "02" + "6162"
    reader = Buffer(buf.data)
    with reader.pull_block(2) as length:
        assert length == 4
        assert reader.pull_uint8() == 7
        with reader.pull_block(1):
            assert reader.pull_rest() == b"ab"
    assert reader.eof()


def test_block_with_unread_bytes_is_a_decode_error() -> None:
    reader = Buffer(bytes.fromhex("0003aabbcc"))
    with pytest.raises(DecodeError, match="left unread"), reader.pull_block(2):
        reader.pull_uint8()


def test_block_cannot_be_read_past_its_end() -> None:
    reader = Buffer(bytes.fromhex("0001aabb"))
    with pytest.raises(DecodeError), reader.pull_block(2):
        reader.pull_uint16()


def test_block_longer_than_the_data_is_truncated() -> None:
    with pytest.raises(DecodeError, match="truncated"), Buffer(bytes.fromhex("0009aa")).pull_block(2):
        pass


def test_lists_round_trip() -> None:
    buf = Buffer()
    buf.push_list(2, Buffer.push_uint16, [0x1301, 0xC02F, 0x009C])
    assert buf.data.hex() == "0006" + "1301c02f009c"
    assert Buffer(buf.data).pull_list(2, Buffer.pull_uint16) == [0x1301, 0xC02F, 0x009C]


def test_list_with_a_partial_item_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        Buffer(bytes.fromhex("0003" + "1301c0")).pull_list(2, Buffer.pull_uint16)


def test_expect_eof_reports_trailing_bytes() -> None:
    reader = Buffer(b"\x01\x02")
    reader.pull_uint8()
    with pytest.raises(DecodeError, match="1 unexpected trailing"):
        reader.expect_eof()


def test_decode_error_carries_the_decode_error_alert() -> None:
    with pytest.raises(DecodeError) as info:
        Buffer(b"").pull_uint8()
    assert info.value.alert.name == "DECODE_ERROR"
    assert "decode_error" in str(info.value)


@given(st.binary(max_size=64))
def test_random_bytes_only_raise_tls_errors(data: bytes) -> None:
    reader = Buffer(data)
    try:
        with reader.pull_block(2):
            reader.pull_list(1, lambda b: b.pull_opaque(1))
    except TLSError:
        pass
