#!/usr/bin/env python3
"""linger_client.py - clients that send while slb closes their connection.

    linger_client.py after-fin VIP PORT LB_NETNS REQUEST [PAUSE]
    linger_client.py upload VIP PORT HEAD BODY_BYTES

after-fin: sends REQUEST (printf-style escapes such as \\r\\n interpreted) from a socket
with a small receive buffer, then reads the answer slowly until slb's socket
towards it (seen with ss in LB_NETNS) is in FIN-WAIT-1: slb has written the
whole response into its kernel and shut down or closed. It stops reading so
that part of the response stays in slb's send queue, then, PAUSE seconds
later (0.3 by default), sends a pipelined request, and reads the rest until
the end or an error. A socket that slb closed (rather than shut down) answers
those bytes with a reset that discards what it had not sent yet.

Prints "sendq=N" (slb's send queue when the extra bytes left: above 0, or
the test proves nothing), then "body=N error=E" (body bytes after the head,
E the error that ended the reading or "none" for a clean end).

upload: sends HEAD, then BODY_BYTES of body in 16 KiB writes 10 ms apart
without reading (an answer comes before the body is through), stopping at
the first write refused; then reads the answer. Prints "sent=N" (body bytes
written), then "status=S body=N length=L error=E": the status code, the
body bytes read after the head, its Content-Length, the reading's end.

Each is bounded: about 20 s at most.
"""
import socket
import subprocess
import sys
import time


def slb_socket(netns, port):
    """slb's (Recv-Q, Send-Q) of its FIN-WAIT-1 socket towards PORT, or None."""
    out = subprocess.run(
        ["ip", "netns", "exec", netns, "ss", "-Htn", "state", "fin-wait-1",
         "( dport = :%d )" % port],
        capture_output=True, text=True, timeout=5, check=False).stdout.split()
    return (int(out[0]), int(out[1])) if len(out) >= 2 else None


def unescape(text):
    """printf-style escapes (\\r\\n) of a command-line argument, as bytes."""
    return text.encode().decode("unicode_escape").encode("latin-1")


def connect(vip, port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.settimeout(5)
    sock.connect((vip, int(port)))
    return sock


def read_rest(sock, data):
    """Reads into DATA until the end; the error that ended it, or "none"."""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return "none"
            data += chunk
    except OSError as e:
        return e.__class__.__name__


def after_fin(vip, port, netns, request, pause="0.3"):
    sock = connect(vip, port)
    sock.sendall(unescape(request))
    lport = sock.getsockname()[1]
    data = bytearray()
    for _ in range(2000):
        if slb_socket(netns, lport):
            break
        data += sock.recv(4096)
        time.sleep(0.02)
    time.sleep(float(pause))  # our receive buffer fills: the rest waits in slb's send queue
    queues = slb_socket(netns, lport)
    print("sendq=%d" % (queues[1] if queues else 0), flush=True)
    try:
        sock.sendall(b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
        time.sleep(0.3)  # a reset, if one comes, arrives before we read on
        error = read_rest(sock, data)
    except OSError as e:
        error = e.__class__.__name__
    head_end = data.find(b"\r\n\r\n")
    body = len(data) - head_end - 4 if head_end >= 0 else 0
    print("body=%d error=%s" % (body, error), flush=True)


def upload(vip, port, head, body_bytes):
    sock = connect(vip, port)
    sock.sendall(unescape(head))
    sent = 0
    piece = b"x" * 16384
    try:
        while sent < int(body_bytes):
            sent += sock.send(piece[:int(body_bytes) - sent])
            time.sleep(0.01)
    except OSError:
        pass
    print("sent=%d" % sent, flush=True)
    data = bytearray()
    error = read_rest(sock, data)
    head_end = data.find(b"\r\n\r\n")
    status, length = "-", "-"
    if head_end >= 0:
        lines = data[:head_end].decode("latin-1").split("\r\n")
        status = lines[0].split(" ")[1]
        for line in lines[1:]:
            if line.lower().startswith("content-length:"):
                length = line.split(":", 1)[1].strip()
    body = len(data) - head_end - 4 if head_end >= 0 else 0
    print("status=%s body=%d length=%s error=%s" % (status, body, length, error), flush=True)


if __name__ == "__main__":
    {"after-fin": after_fin, "upload": upload}[sys.argv[1]](*sys.argv[2:])
