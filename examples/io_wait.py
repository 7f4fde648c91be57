"""io_wait.py - a script that mostly waits: sleeps and blocking socket reads.

Triggers the "low CPU % (waiting on I/O)" suggestion: wall time is about one
second but the CPU is busy for only a small part of it. poll_for_reply() waits
on a socket with select() (a timeout stands in for a slow server), and
backoff() sleeps between attempts. Everything happens in one thread and is
deterministic, so call counts are the same on every run.
"""
import select
import socket
import time


def poll_for_reply(sock, timeout_s):
    """Wait up to timeout_s for data; return it, or None on timeout."""
    readable, _, _ = select.select([sock], [], [], timeout_s)
    if not readable:
        return None
    return sock.recv(65536)


def backoff(attempt):
    time.sleep(0.02 * attempt)


def exchange(client, server, payload):
    client.sendall(payload)
    data = poll_for_reply(server, 1.0)
    server.sendall(data.upper())
    return poll_for_reply(client, 1.0)


def main():
    client, server = socket.socketpair()
    with client, server:
        for attempt in range(1, 8):
            if poll_for_reply(client, 0.03) is None:  # nothing arrives: a timeout
                backoff(attempt)
        replies = [exchange(client, server, b"ping %d" % i) for i in range(200)]
    print(f"{len(replies)} replies, last {replies[-1]!r}")


if __name__ == "__main__":
    main()
