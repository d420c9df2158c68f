#!/usr/bin/env python3
"""Memory a TLS keep-alive connection holds while idle, after one request on it.

Usage: bench/tls_idle.py HOST:PORT CONNECTIONS TOKEN PID...
Opens CONNECTIONS TLS connections to HOST:PORT, sends one POST /v1/completions on each
(Bearer TOKEN) and reads its answer, leaves them all open and idle, and prints the resident
memory the PIDs (the proxy's processes) gained, in KiB per connection. A TLS proxy's idle
connection holds what its TLS layer keeps between requests (record buffers, a BIO pair), which
bench/run.sh's keep-alive scenario does not see: its connections are plain and send nothing.
"""
import socket
import ssl
import sys
import time

BODY = b'{"model":"bench","prompt":"hello","max_tokens":16}'


def rss_kib(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def request(host, token):
    return (b"POST /v1/completions HTTP/1.1\r\nHost: " + host.encode() +
            b"\r\nAuthorization: Bearer " + token.encode() +
            b"\r\nContent-Type: application/json\r\nContent-Length: " +
            str(len(BODY)).encode() + b"\r\n\r\n" + BODY)


def read_answer(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise RuntimeError("closed before the answer's head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.split(b"\r\n")[0].decode())
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += conn.recv(65536)


def main():
    address, count, token, pids = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    host, port = address.rsplit(":", 1)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    # Each connection's first request pays for the proxy's handshake and the token's check:
    # one warm-up connection first, so the baseline has the proxy's one-time allocations.
    warm = context.wrap_socket(socket.create_connection((host, int(port))))
    warm.sendall(request(address, token))
    read_answer(warm)
    time.sleep(0.5)
    before = rss_kib(pids)
    held = []
    for _ in range(count):
        conn = context.wrap_socket(socket.create_connection((host, int(port))))
        conn.sendall(request(address, token))
        read_answer(conn)
        held.append(conn)
    time.sleep(1.0)  # settle: not synchronisation, the figure is read once either way
    after = rss_kib(pids)
    print(f"connections {count} rss_before_kib {before} rss_after_kib {after} "
          f"kib_per_conn {(after - before) / count:.2f}")
    for conn in held:
        conn.close()


if __name__ == "__main__":
    main()
