"""Damaged files never crash a loader or surface an unexpected exception type: every
loader of the package raises ValueError (or UnicodeDecodeError, a ValueError) for bytes it
cannot read. Hypothesis mutates valid files (flipped bytes, truncation, insertions) and
tries random bytes (issue 12: "one exception type for 'this file is not valid'")."""

import io
import os
import tempfile
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fuzz_readers import load_bytes, valid_files

FUZZ = settings(
    max_examples=int(os.environ.get("FASTEMBED_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


VALID = valid_files()


@st.composite
def damaged(draw):
    kind = draw(st.sampled_from(sorted(VALID)))
    data = bytearray(VALID[kind])
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "truncate", "insert", "random"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif action == "truncate":
            del data[position:]
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        else:
            data = bytearray(draw(st.binary(max_size=256)))
    return kind, bytes(data)


@FUZZ
@given(damaged())
def test_damaged_files_raise_value_error_or_load(case):
    kind, data = case
    with tempfile.TemporaryDirectory() as directory:
        load_bytes(kind, data, directory)


def _patched_model_file(offset_from_signature, value):
    """The valid model file with a 2-byte field of every central directory entry set."""
    data = bytearray(VALID["model.fe"])
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) >= 0:
        data[start + offset_from_signature : start + offset_from_signature + 2] = value.to_bytes(2, "little")
        start += 4
    return bytes(data)


def test_zip_features_numpy_never_writes_are_value_errors(tmp_path):
    # Found by the atheris target: zipfile raises NotImplementedError for a "version
    # needed to extract" it does not know and RuntimeError for an encrypted member.
    for field_offset, value in [(6, 116), (8, 1)]:  # version needed 11.6; flag bit 0: encrypted
        with pytest.raises(ValueError, match="not a"):
            load_bytes("model.fe", _patched_model_file(field_offset, value), str(tmp_path), strict=True)


def test_unterminated_npy_header_is_a_value_error(tmp_path):
    # Found by the atheris target: NumPy's npy header parser lets tokenize.TokenError out
    # for a header with an unclosed bracket.
    header = b"{(\n" + b" " * 60 + b"\n"
    member = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("config.npy", member)
    with pytest.raises(ValueError, match="not a"):
        load_bytes("model.fe", buffer.getvalue(), str(tmp_path), strict=True)


@pytest.mark.parametrize("version", ["{}", '"1"', "true", "-1", "1.5"])
def test_encoder_version_of_another_type_is_a_value_error(tmp_path, version):
    # Found by the atheris target: a version that is not an integer was compared with one.
    document = VALID["encoder.json"].decode("utf-8")
    damaged = document.replace('"version": 1', '"version": %s' % version)
    assert damaged != document
    with pytest.raises(ValueError, match="not a saved TextVectorizer"):
        load_bytes("encoder.json", damaged.encode("utf-8"), str(tmp_path), strict=True)
