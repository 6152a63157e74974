"""WSS flood client for test_tls_flood.sh.

  tls_flood.py PORT N VERSION STATEFILE

Opens up to N WebSocket-over-TLS connections to /rpc on 127.0.0.1:PORT,
one after the other (VERSION: 1.2 or 1.3), keeps the ones that got their
101, and prints "held K refused R".  Then, on each line of stdin:
  ping        RPC.Ping over every held connection, one after the other:
              prints "ping ok" when each answered with a result, else
              "ping failed K/N" (K answered out of N)
  frag        a message in three fragments with a ping between them over
              the first held connection (answered, pong first), then a
              continuation frame with no message over the last (closed
              with 1002; it leaves the held set): "frag ok" or
              "frag failed WHY"
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


def ws_send(t, op, payload, fin=True):
    mask = os.urandom(4)
    hdr = bytes([(0x80 if fin else 0) | op, 0x80 | len(payload)]) + mask
    t.sendall(hdr + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def ws_recv(t):
    """One whole unmasked server frame: (opcode, payload)."""
    got = b""
    while True:
        if len(got) >= 2:
            n, hl = got[1] & 0x7f, 2
            if n == 126 and len(got) >= 4:
                n, hl = struct.unpack(">H", got[2:4])[0], 4
            if n < 126 and len(got) >= hl + n:
                return got[0] & 0x0f, got[hl:hl + n]
        d = t.recv(1)  # byte by byte: the next frame stays in the socket
        if not d:
            raise OSError("closed")
        got += d


def frag_check(first, last):
    ws_send(first, 1, b'{"id":7,"met', fin=False)
    ws_send(first, 9, b"hi")
    ws_send(first, 0, b'hod":"RPC.', fin=False)
    ws_send(first, 0, b'Ping"}')
    op, p = ws_recv(first)
    if (op, p) != (10, b"hi"):
        return "no pong first: %r" % ((op, p),)
    op, p = ws_recv(first)
    if op != 1 or b'"result"' not in p or b'"id":7' not in p:
        return "no reply to the fragmented call: %r" % p
    ws_send(last, 0, b"x")
    op, p = ws_recv(last)
    if op != 8 or struct.unpack(">H", p[:2])[0] != 1002:
        return "stray continuation not closed with 1002: %r" % ((op, p),)
    return None


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
        if len(got) < 2:
            continue
        n, hl = got[1] & 0x7f, 2
        if n == 126:
            if len(got) < 4:
                continue
            n, hl = struct.unpack(">H", got[2:4])[0], 4
        elif n == 127:
            return False  # a ping reply is never that big
        if len(got) >= hl + n:
            return b'"result"' in got[hl:hl + n]


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
        answered = 0
        for t in held:
            try:
                answered += 1 if ws_call(t, "RPC.Ping") else 0
            except (OSError, ssl.SSLError):
                pass
        if held and answered == len(held):
            print("ping ok", flush=True)
        else:
            print("ping failed %d/%d" % (answered, len(held)), flush=True)
    elif cmd == "frag":
        try:
            why = frag_check(held[0], held[-1]) if len(held) > 1 else "< 2"
        except (OSError, ssl.SSLError) as e:
            why = str(e)
        if len(held) > 1:
            held.pop().close()
        print("frag ok" if why is None else "frag failed " + why, flush=True)
    elif cmd == "close":
        for t in held:
            try:
                t.close()
            except OSError:
                pass
        held = []
        print("closed", flush=True)
