"""WSS flood client for test_tls_flood.sh.

  tls_flood.py PORT N VERSION STATEFILE

Opens up to N WebSocket-over-TLS connections to /rpc on 127.0.0.1:PORT,
one after the other (VERSION: 1.2 or 1.3), keeps the ones that got their
101, and prints "held K refused R".  Then, on each line of stdin:
  ping        RPC.Ping over the first and the last held connection:
              prints "ping ok" or "ping failed"
  close       closes every connection, prints "closed"
The device is the only thing counted: this process's memory is not.
"""
import base64, json, os, socket, ssl, struct, sys

port, n, ver = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
v = ssl.TLSVersion.TLSv1_2 if ver == "1.2" else ssl.TLSVersion.TLSv1_3
ctx.minimum_version = ctx.maximum_version = v


def ws_open():
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    t = ctx.wrap_socket(s)
    key = base64.b64encode(os.urandom(16)).decode()
    t.sendall(("GET /rpc HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Key: %s\r\n\r\n" % key).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        d = t.recv(1024)
        if not d:
            raise OSError("closed")
        head += d
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise OSError("no 101")
    return t


def ws_call(t, method):
    body = json.dumps({"id": 1, "method": method}).encode()
    mask = os.urandom(4)
    hdr = bytes([0x81, 0x80 | len(body)]) + mask
    t.sendall(hdr + bytes(b ^ mask[i % 4] for i, b in enumerate(body)))
    got = b""
    while True:
        d = t.recv(4096)
        if not d:
            return False
        got += d
        if len(got) >= 2 and len(got) >= 2 + (got[1] & 0x7f):
            return b'"result"' in got


held, refused = [], 0
for i in range(n):
    try:
        held.append(ws_open())
    except (OSError, ssl.SSLError):
        refused += 1
print("held %d refused %d" % (len(held), refused), flush=True)
for line in sys.stdin:
    cmd = line.strip()
    if cmd == "ping":
        try:
            ok = held and ws_call(held[0], "RPC.Ping") and \
                ws_call(held[-1], "RPC.Ping")
        except (OSError, ssl.SSLError):
            ok = False
        print("ping ok" if ok else "ping failed", flush=True)
    elif cmd == "close":
        for t in held:
            try:
                t.close()
            except OSError:
                pass
        held = []
        print("closed", flush=True)
