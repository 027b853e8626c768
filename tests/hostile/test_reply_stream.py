"""Submissions that attack the reply stream itself (issue 8, class 4).

The worker is the student's process: a submission can write to the channel
whatever bytes it likes, as slowly as it likes.  Each attack must end in a
failed check with a clear reason, in bounded time and memory, and the next
check must get a working worker.
"""

from __future__ import annotations

import textwrap

from tests.hostile.conftest import assert_contained

CHANNEL = """
    import io as _io
    import json as _json
    import os as _os
    import socket as _socket
    import stat as _stat
    import struct as _struct
    import sys as _sys
    import time as _time
    import zipfile as _zipfile

    def _channel():
        '''The worker's socket to the grader: from its configuration, or the one socket it holds.'''
        try:
            fd = int(_json.loads(_sys.argv[1])["channel_fd"])
        except Exception:
            fd = next(int(n) for n in _os.listdir("/proc/self/fd") if _stat.S_ISSOCK(_os.fstat(int(n)).st_mode))
        return _socket.socket(fileno=_os.dup(fd))

    def _send_forged(payload):
        '''A whole reply frame of our own making, then silence.'''
        _channel().sendall(_struct.pack("!Q", len(payload)) + payload)
        _time.sleep(60)

    def _reply_with(value_tree):
        buffer = _io.BytesIO()
        torch.save({"__kind__": "dict", "items": {"ok": True, "value": value_tree}}, buffer)
        return buffer.getvalue()
"""


def with_channel(code: str) -> str:
    """The channel helpers, then the attack (each dedented on its own)."""
    return textwrap.dedent(CHANNEL) + textwrap.dedent(code)


def test_a_reply_dripped_byte_by_byte_runs_out_of_time(attack):
    """Each byte arrives before a per-read timeout would fire; the call's deadline still ends it."""
    graded = attack(with_channel("""
        def numpy_to_tensor(array):
            sock = _channel()
            sock.sendall(_struct.pack("!Q", 40))
            for _ in range(40):
                sock.sendall(b"x")
                _time.sleep(2)
    """), call_timeout=3)
    assert_contained(graded, reason="timed out after 3 s while calling numpy_to_tensor()", bound=40)


def test_a_reply_larger_than_the_lab_needs_is_refused_unread(attack):
    graded = attack("""
        def numpy_to_tensor(array):
            return [0.5] * 1_200_000   # 10.8 MB of pickled floats; the lab allows 8 MiB
    """, call_timeout=30)  # pickling it takes the worker seconds on a busy machine: no timeout in the way
    assert_contained(graded, reason="bytes allowed here", bound=40)
    assert "cannot accept" in graded.summary("attacked")


def test_a_reply_whose_structure_is_slow_to_decode_is_refused(attack):
    graded = attack("""
        def numpy_to_tensor(array):
            return [0.5] * 500_000     # 4.5 MB: inside the frame limit, but a 4.5 MB pickle
    """, call_timeout=30)
    assert_contained(graded, reason="the reply's structure takes", bound=40)


def test_a_tiny_frame_that_expands_into_gigabytes_is_refused(attack):
    """A stride-0 view of one byte, sent as `bytes`: reading it whole would allocate its full size."""
    graded = attack(with_channel("""
        def numpy_to_tensor(array):
            view = torch.zeros(1, dtype=torch.uint8).expand(1 << 28)   # 256 MiB of one byte
            _send_forged(_reply_with({"__kind__": "bytes", "data": view}))
    """), call_timeout=30)
    assert_contained(graded, reason="tensor payload is a view", bound=40)


def test_a_compressed_archive_is_refused_before_it_is_inflated(attack):
    graded = attack(with_channel("""
        def numpy_to_tensor(array):
            plain = _zipfile.ZipFile(_io.BytesIO(_reply_with(
                {"__kind__": "bytes", "data": torch.zeros(1 << 26, dtype=torch.uint8)})))
            bomb = _io.BytesIO()
            with _zipfile.ZipFile(bomb, "w", _zipfile.ZIP_DEFLATED) as out:
                for member in plain.infolist():
                    out.writestr(member.filename, plain.read(member), compress_type=_zipfile.ZIP_DEFLATED)
            _send_forged(bomb.getvalue())    # 64 MiB of zeros in about 70 KB
    """), call_timeout=30)
    assert_contained(graded, reason="is compressed", bound=40)


def test_a_forged_reply_calling_an_allowed_constructor_is_refused(attack):
    """torch's weights-only unpickler would build bytearray(2**33): 8 GiB from a few bytes."""
    graded = attack(with_channel("""
        def numpy_to_tensor(array):
            archive = _zipfile.ZipFile(_io.BytesIO(_reply_with(None)))
            pickled = (b"\\x80\\x02cbuiltins\\nbytearray\\n" + b"\\x8a\\x05\\x00\\x00\\x00\\x00\\x02" + b"\\x85R.")
            forged = _io.BytesIO()
            with _zipfile.ZipFile(forged, "w", _zipfile.ZIP_STORED) as out:
                for member in archive.infolist():
                    data = pickled if member.filename.endswith("data.pkl") else archive.read(member)
                    out.writestr(member.filename, data)
            _send_forged(forged.getvalue())
    """), call_timeout=30)
    assert_contained(graded, reason="pickle global 'builtins bytearray' is not allowed", bound=40)
