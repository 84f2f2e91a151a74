"""Records and blocks: encoding round-trips any payload byte for byte, and a segment cut anywhere
(a killed writer) still reads: every whole block, then the cut one reported, never an exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_trader.recording.format import (
    RecordingFormatError,
    compress_block,
    encode_records,
    parse_records,
    read_blocks,
)

kinds = st.sampled_from([b"ws", b"gap", b"market", b"nws", b"conn"])
records = st.lists(
    st.tuples(kinds, st.integers(0, 2**63 - 1), st.none() | st.integers(0, 2**62), st.binary(max_size=300)),
    max_size=30,
)


@given(records)
def test_records_round_trip_byte_for_byte(batch: list[tuple[bytes, int, int | None, bytes]]) -> None:
    assert list(parse_records(encode_records(batch))) == batch


def test_a_payload_with_newlines_and_spaces_is_kept_exactly() -> None:
    payload = b'{"a": "x y"}\n\n ws 1 2 3\n'
    [(kind, wall, market, got)] = parse_records(encode_records([(b"ws", 5, None, payload)]))
    assert (kind, wall, market, got) == (b"ws", 5, None, payload)


@pytest.mark.parametrize(
    "content",
    [b"ws 1 - 5\nabc\n", b"ws 1 - 3\nabcd\n", b"ws 1 -\nabc\n", b"ws x - 3\nabc\n", b"ws 1 - 3\nabc"],
)
def test_malformed_records_are_an_error(content: bytes) -> None:
    with pytest.raises(RecordingFormatError):
        list(parse_records(content))


def _segment(tmp_path: Path, blocks: list[list[tuple[bytes, int, int | None, bytes]]]) -> tuple[Path, list[int]]:
    path = tmp_path / "seg.rec.gz"
    ends = []
    with path.open("wb") as fh:
        for batch in blocks:
            fh.write(compress_block(encode_records(batch)))
            ends.append(fh.tell())
    return path, ends


def _batches() -> list[list[tuple[bytes, int, int | None, bytes]]]:
    return [[(b"ws", i * 10 + j, None, b'{"n":%d}' % (i * 10 + j)) for j in range(10)] for i in range(4)]


def test_a_file_cut_at_any_byte_yields_its_whole_blocks_then_reports_the_cut(tmp_path: Path) -> None:
    batches = _batches()
    path, ends = _segment(tmp_path, batches)
    whole = path.read_bytes()
    for cut in range(ends[-2] + 1, len(whole)):  # every byte of the last block
        path.write_bytes(whole[:cut])
        blocks = list(read_blocks(path))
        good = [b for b in blocks if not b.problem]
        assert [list(parse_records(b.content)) for b in good] == batches[:3]
        assert blocks[-1].problem == "cut"
        assert blocks[-1].offset == ends[-2]
        assert blocks[-1].skipped == cut - ends[-2]


def test_whole_blocks_read_with_their_offsets_and_sizes(tmp_path: Path) -> None:
    path, ends = _segment(tmp_path, _batches())
    blocks = list(read_blocks(path))
    assert [b.offset + b.size for b in blocks] == ends
    assert not any(b.problem for b in blocks)


def test_a_damaged_block_is_skipped_and_reading_resumes_at_the_next(tmp_path: Path) -> None:
    batches = _batches()
    path, ends = _segment(tmp_path, batches)
    data = bytearray(path.read_bytes())
    middle = (ends[0] + ends[1]) // 2
    data[middle] ^= 0xFF  # the CRC of block 2 no longer matches (or its deflate stream breaks)
    path.write_bytes(bytes(data))
    blocks = list(read_blocks(path))
    assert [b.problem for b in blocks] == ["", "damaged", "", ""]
    good = [list(parse_records(b.content)) for b in blocks if not b.problem]
    assert good == [batches[0], batches[2], batches[3]]
