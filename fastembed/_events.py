"""TensorBoard event files, written without TensorFlow.

An event file is a sequence of TFRecords: ``uint64 length``, ``uint32 masked CRC-32C of
the length``, the data, ``uint32 masked CRC-32C of the data`` (little-endian). Each
record is an ``Event`` protocol buffer: ``wall_time`` (1, double), ``step`` (2, int64),
``file_version`` (3, string, the first record: ``"brain.Event:2"``) or ``summary`` (5),
whose ``Value``s (1) hold a ``tag`` (1, string) and a ``simple_value`` (2, float), the
scalar form every TensorBoard version reads. The few protobuf fields are encoded here by
hand.
"""

import os
import struct
import time


def _crc32c_table():
    table = []
    for n in range(256):
        crc = n
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli), as TFRecord uses."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """TFRecord's masked CRC: rotated right by 15 bits plus a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(value):
    out = bytearray()
    value &= (1 << 64) - 1  # negative int64 as protobuf writes them
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _field(number, wire_type, payload):
    return _varint((number << 3) | wire_type) + payload


def _length_delimited(number, data):
    return _field(number, 2, _varint(len(data)) + data)


def encode_event(wall_time, step=0, file_version=None, scalars=None):
    """One serialised ``Event``: a file-version record, or scalar summaries."""
    data = _field(1, 1, struct.pack("<d", wall_time))
    if step:
        data += _field(2, 0, _varint(int(step)))
    if file_version is not None:
        data += _length_delimited(3, file_version.encode("utf-8"))
    if scalars:
        values = b"".join(
            _length_delimited(1, _length_delimited(1, tag.encode("utf-8")) + _field(2, 5, struct.pack("<f", value)))
            for tag, value in scalars.items()
        )
        data += _length_delimited(5, values)
    return data


def frame_record(data):
    """One TFRecord around ``data``."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc32c(length)) + data + struct.pack("<I", masked_crc32c(data))


def read_records(path):
    """The records' data of a TFRecord file, checking every length and CRC.

    Raises
    ------
    ValueError
        A truncated record or a CRC mismatch (naming the record).
    """
    records = []
    with open(path, "rb") as handle:
        data = handle.read()
    offset = 0
    while offset < len(data):
        if offset + 12 > len(data):
            raise ValueError("%s: record %d is truncated" % (path, len(records)))
        length_bytes = data[offset : offset + 8]
        (length,) = struct.unpack("<Q", length_bytes)
        (length_crc,) = struct.unpack("<I", data[offset + 8 : offset + 12])
        if masked_crc32c(length_bytes) != length_crc:
            raise ValueError("%s: record %d has a bad length CRC" % (path, len(records)))
        end = offset + 12 + length
        if end + 4 > len(data):
            raise ValueError("%s: record %d is truncated" % (path, len(records)))
        payload = data[offset + 12 : end]
        (payload_crc,) = struct.unpack("<I", data[end : end + 4])
        if masked_crc32c(payload) != payload_crc:
            raise ValueError("%s: record %d has a bad data CRC" % (path, len(records)))
        records.append(payload)
        offset = end + 4
    return records


class EventFileWriter:
    """Appends events to ``<directory>/events.out.tfevents.<time>.<host>.<pid>.v2``.

    Each write appends whole records and flushes, so a reader (TensorBoard polls the
    file) never sees half a record; an interrupted run leaves every finished record.
    """

    def __init__(self, directory):
        os.makedirs(directory, exist_ok=True)
        import socket  # only when writing logs (import time)

        now = time.time()
        self.path = os.path.join(
            directory, "events.out.tfevents.%d.%s.%d.v2" % (int(now), socket.gethostname(), os.getpid())
        )
        self._handle = open(self.path, "ab")
        self._append(encode_event(now, file_version="brain.Event:2"))

    def _append(self, data):
        self._handle.write(frame_record(data))
        self._handle.flush()

    def add_scalars(self, step, scalars):
        """Write ``{tag: value}`` at ``step``."""
        self._append(encode_event(time.time(), step=step, scalars={k: float(v) for k, v in scalars.items()}))

    def close(self):
        if not self._handle.closed:
            self._handle.close()
