"""Submissions that use the network or the privileges of the grader's user.

The network checks need the namespace sandbox (Landlock has no rule for UDP,
MPTCP or unix sockets by path); the privilege checks need any confinement
(the worker drops every capability, so root grading does not make it root).
"""

from __future__ import annotations

import os
import socket

import pytest

from tests.helpers import needs_confinement, needs_namespaces
from tests.hostile.conftest import assert_contained
from tests.hostile.test_confinement import reported

REFUSED = {"PermissionError", "FileNotFoundError", "ConnectionRefusedError", "OSError", "TimeoutError"}


@needs_namespaces("cut the worker off the host's network")
def test_udp_mptcp_and_unix_sockets_reach_nothing(attack, tmp_path):
    with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, \
            socket.socket(socket.AF_UNIX) as unix:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("127.0.0.1", 0))
        unix.bind(str(tmp_path / "grader.sock"))
        unix.listen()
        graded = attack(f"""
            import json as _json
            import socket as _socket

            def _try(action):
                try:
                    action()
                    return "done"
                except OSError as exc:
                    return type(exc).__name__

            def _mptcp():  # IPPROTO_MPTCP = 262: once a way past "no TCP"
                with _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM, 262) as s:
                    s.settimeout(2)
                    s.connect(("127.0.0.1", {tcp.getsockname()[1]}))

            def _unix():
                with _socket.socket(_socket.AF_UNIX) as s:
                    s.connect({str(tmp_path / "grader.sock")!r})

            def _udp(address):
                with _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM) as s:
                    s.sendto(b"MARKER", address)

            def numpy_to_tensor(array):
                outcomes = {{"mptcp": _try(_mptcp), "unix by path": _try(_unix),
                            "udp to the grader's host": _try(lambda: _udp(("127.0.0.1", {udp.getsockname()[1]}))),
                            "udp out": _try(lambda: _udp(("192.0.2.1", 9)))}}
                raise ValueError("MARKER " + _json.dumps(outcomes))
        """)
        for listener in (tcp, udp, unix):
            listener.settimeout(0)
        with pytest.raises(BlockingIOError):
            tcp.accept()
        with pytest.raises(BlockingIOError):
            unix.accept()
        with pytest.raises(BlockingIOError):
            udp.recv(100)
    assert_contained(graded)
    outcomes = reported(graded)
    # the datagram to 127.0.0.1 may "leave": it reaches the sandbox's own loopback, where nothing listens
    outcomes.pop("udp to the grader's host")
    assert set(outcomes) == {"mptcp", "unix by path", "udp out"}
    assert set(outcomes.values()) <= REFUSED, outcomes


@needs_confinement("take the grader user's privileges away from the worker")
def test_no_device_nodes_raw_sockets_or_grader_memory(attack):
    graded = attack(f"""
        import json as _json
        import os as _os
        import socket as _socket
        import stat as _stat

        def _try(action):
            try:
                action()
                return "done"
            except OSError as exc:
                return type(exc).__name__

        def _read(path):
            with open(path, "rb") as file:
                file.read()

        def numpy_to_tensor(array):
            outcomes = {{
                "mknod /dev/null twin": _try(lambda: _os.mknod("null-twin", _stat.S_IFCHR | 0o666, _os.makedev(1, 3))),
                "raw icmp socket": _try(lambda: _socket.socket(_socket.AF_INET, _socket.SOCK_RAW, _socket.IPPROTO_ICMP)),
                "packet socket": _try(lambda: _socket.socket(_socket.AF_PACKET, _socket.SOCK_RAW, 0)),
                "grader environ": _try(lambda: _read("/proc/{os.getpid()}/environ")),
                "grader maps": _try(lambda: _read("/proc/{os.getpid()}/maps")),
            }}
            raise ValueError("MARKER " + _json.dumps(outcomes))
    """)
    assert_contained(graded)
    outcomes = reported(graded)
    assert len(outcomes) == 5 and set(outcomes.values()) <= REFUSED, outcomes
