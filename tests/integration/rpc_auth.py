#!/usr/bin/python3
"""Raw-frame RPC client with Digest for test_auth.sh / test_acl.sh.

  rpc_auth.py SCENARIO TRANSPORT [ARGS...]

TRANSPORT is a ws://host:port/rpc URL (a raw-socket WebSocket client, so
no third-party module is needed) or the path of the device's UART PTY.
Frames are built by hand (rpc.md §5.2, §5.3) so that a test can send one
twice, change nc, invent a nonce, drop fields.  Prints one "key: value"
line per step; exits non-zero only on a transport problem.

Scenarios:
  challenge                 one call without auth; prints the reply's error
  call METHOD [USER:PASS] [ALGO]   a call, answering one challenge
  send JSON                 sends one frame as is, prints the reply
  frames USER:PASS          replay checks (nc 1, the same frame again,
                            nc 2, nc 1 again, a nonce never issued, a
                            missing response); prints `captured:` = an
                            accepted frame for replay over another channel
  expired USER:PASS         waits 2.2 s after the challenge (device run
                            with rpc.auth_nonce_ttl=1) before answering
  throttle USER:PASS        wrong password until 429 (at most 12 tries)
  upgrade HOST:PORT USER:PASS   Authorization on the WebSocket upgrade
"""
import base64
import hashlib
import json
import os
import random
import select
import socket
import sys
import time
import tty

HASH = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def h(algo, s):
    return HASH[algo](s.encode()).hexdigest()


# ---- transports ---------------------------------------------------------------


class WS:
    def __init__(self, url, headers=None):
        rest = url.split("://", 1)[1]
        hostport, _, path = rest.partition("/")
        host, port = hostport.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n" % (path, hostport, key))
        for k, v in (headers or {}).items():
            req += "%s: %s\r\n" % (k, v)
        self.s.sendall((req + "\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            b = self.s.recv(4096)
            if not b:
                break
            self.buf += b
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1]) if lines[0] else 0
        self.headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            self.headers[k.strip().lower()] = v.strip()

    def _read(self, n):
        while len(self.buf) < n:
            b = self.s.recv(65536)
            if not b:
                raise EOFError("connection closed")
            self.buf += b
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, text):
        data = text.encode()
        hdr = bytes([0x81])
        n = len(data)
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        else:
            hdr += bytes([0x80 | 127]) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.s.sendall(hdr + mask + body)

    def recv(self, want_id):
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = int.from_bytes(self._read(2), "big")
            elif n == 127:
                n = int.from_bytes(self._read(8), "big")
            payload = self._read(n)
            op = b0 & 0x0F
            if op == 8:
                raise EOFError("close frame")
            if op != 1:
                continue
            j = json.loads(payload)
            if j.get("id") == want_id:
                return j

    def close(self):
        self.s.close()


class Uart:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        self.buf = b""

    def send(self, text):
        os.write(self.fd, b"\n" + text.encode() + b"\n")

    def recv(self, want_id, wait=5.0):
        end = time.time() + wait
        dec = json.JSONDecoder()
        while time.time() < end:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                line = line.strip(b"\r").decode("utf-8", "replace")
                i = line.find("{")
                if i < 0:
                    continue
                try:  # log lines and CRC/""" wrapping around the JSON
                    j, _ = dec.raw_decode(line[i:])
                except ValueError:
                    continue
                if isinstance(j, dict) and j.get("id") == want_id:
                    return j
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                self.buf += os.read(self.fd, 4096)
        raise TimeoutError("no reply with id %r" % (want_id,))

    def close(self):
        os.close(self.fd)


def open_transport(t):
    return WS(t) if t.startswith("ws://") else Uart(t)


# ---- frames ---------------------------------------------------------------------

_next_id = [random.randint(1000, 100000)]


def new_id():
    _next_id[0] += 1
    return _next_id[0]


def roundtrip(tr, frame):
    """frame: dict or already-serialised text (sent verbatim)."""
    text = frame if isinstance(frame, str) else json.dumps(frame)
    fid = json.loads(text)["id"]
    tr.send(text)
    return tr.recv(fid)


def outcome(reply):
    """'ok' or '<code> <message>' of a reply."""
    if "error" in reply and reply["error"].get("code", 0) != 0:
        e = reply["error"]
        return "%d %s" % (e.get("code"), e.get("message", ""))
    return "ok"


def code_of(reply):
    if "error" in reply and reply["error"].get("code", 0) != 0:
        return reply["error"]["code"]
    return 200


def challenge_of(reply):
    """The decoded in-frame challenge of a 401 reply, or None."""
    if code_of(reply) != 401:
        return None
    try:
        return json.loads(reply["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return None


def auth_obj(ch, user, pw, nc=1, cnonce=None, algo=None):
    algo = algo or ch.get("algorithm", "MD5")
    realm = ch["realm"]
    nonce = ch["nonce"]
    cnonce = cnonce if cnonce is not None else random.randint(1, 0xFFFFFFFE)
    ha1 = h(algo, "%s:%s:%s" % (user, realm, pw))
    ha2 = h(algo, "dummy_method:dummy_uri")
    resp = h(algo, "%s:%s:%s:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2))
    a = {"realm": realm, "username": user, "nonce": nonce, "cnonce": cnonce,
         "response": resp, "algorithm": algo}
    if nc != 1:
        a["nc"] = nc
    return a


def get_challenge(tr, method="Sys.GetInfo"):
    r = roundtrip(tr, {"id": new_id(), "src": "rawtest", "method": method})
    return r, challenge_of(r)


def authed_call(tr, user, pw, method="Sys.GetInfo"):
    """Challenge + answer; returns the final reply."""
    r, ch = get_challenge(tr, method)
    if ch is None:
        return r
    f = {"id": new_id(), "src": "rawtest", "method": method,
         "auth": auth_obj(ch, user, pw)}
    return roundtrip(tr, f)


def creds(s):
    u, _, p = s.partition(":")
    return u, p


# ---- scenarios ------------------------------------------------------------------


def sc_challenge(tr, args):
    r, ch = get_challenge(tr, args[0] if args else "Sys.GetInfo")
    print("code: %d" % code_of(r))
    print("message: %s" % r.get("error", {}).get("message", ""))


def sc_call(tr, args):
    method = args[0]
    if len(args) > 1:
        u, p = creds(args[1])
        r, ch = get_challenge(tr, method)
        if ch is not None:
            f = {"id": new_id(), "src": "rawtest", "method": method,
                 "auth": auth_obj(ch, u, p, algo=args[2] if len(args) > 2
                                  else None)}
            r = roundtrip(tr, f)
    else:
        r = roundtrip(tr, {"id": new_id(), "src": "rawtest",
                           "method": method})
    print("reply: %s" % outcome(r))


def sc_send(tr, args):
    print("reply: %s" % outcome(roundtrip(tr, args[0])))


def sc_frames(tr, args):
    u, p = creds(args[0])
    r, ch = get_challenge(tr)
    print("challenge: %s" % ("yes" if ch else outcome(r)))
    if ch is None:
        return
    cn = random.randint(1, 0xFFFFFFFE)
    f1 = json.dumps({"id": new_id(), "src": "rawtest", "method": "Sys.GetInfo",
                     "auth": auth_obj(ch, u, p, 1, cn)})
    print("nc1: %s" % outcome(roundtrip(tr, f1)))
    print("captured: %s" % f1)
    r = roundtrip(tr, f1)
    ch2 = challenge_of(r)
    print("replay: %s" % (code_of(r)))
    print("replay.new_nonce: %s" %
          ("yes" if ch2 and ch2["nonce"] != ch["nonce"] else "no"))
    # The same nonce with the next counter is a legitimate reuse.
    f2 = {"id": new_id(), "src": "rawtest", "method": "Sys.GetInfo",
          "auth": auth_obj(ch, u, p, 2, cn)}
    print("nc2: %s" % outcome(roundtrip(tr, f2)))
    f1b = {"id": new_id(), "src": "rawtest", "method": "Sys.GetInfo",
           "auth": auth_obj(ch, u, p, 1, cn + 1)}
    print("nc1_after_nc2: %s" % code_of(roundtrip(tr, f1b)))
    print("reset1: %s" % outcome(authed_call(tr, u, p)))
    # A nonce the device never issued (Mongoose OS took Unix time).
    fake = dict(ch)
    fake["nonce"] = int(time.time())
    ff = {"id": new_id(), "src": "rawtest", "method": "Sys.GetInfo",
          "auth": auth_obj(fake, u, p)}
    print("forged_time_nonce: %s" % code_of(roundtrip(tr, ff)))
    fake["nonce"] = random.randint(1, 2 ** 53 - 1)
    ff = {"id": new_id(), "src": "rawtest", "method": "Sys.GetInfo",
          "auth": auth_obj(fake, u, p)}
    print("forged_random_nonce: %s" % code_of(roundtrip(tr, ff)))
    print("reset2: %s" % outcome(authed_call(tr, u, p)))
    # A missing response is never accepted (rpc.md §5.4 row 1).
    r, ch = get_challenge(tr)
    a = auth_obj(ch, u, p)
    del a["response"]
    print("no_response: %s" % outcome(roundtrip(
        tr, {"id": new_id(), "src": "rawtest", "method": "Sys.GetInfo",
             "auth": a})))
    a = auth_obj(ch, u, p)
    a["realm"] = "otherrealm"
    print("other_realm: %s" % outcome(roundtrip(
        tr, {"id": new_id(), "src": "rawtest", "method": "Sys.GetInfo",
             "auth": a})))
    # The nonce of the two refused frames is still good for a right answer.
    a = auth_obj(ch, u, p)
    a["response"] = a["response"].upper()
    print("upper_hex: %s" % outcome(roundtrip(
        tr, {"id": new_id(), "src": "rawtest", "method": "Sys.GetInfo",
             "auth": a})))


def sc_expired(tr, args):
    u, p = creds(args[0])
    r, ch = get_challenge(tr)
    if ch is None:
        print("challenge: %s" % outcome(r))
        return
    time.sleep(2.2)
    r = roundtrip(tr, {"id": new_id(), "src": "rawtest",
                       "method": "Sys.GetInfo", "auth": auth_obj(ch, u, p)})
    ch2 = challenge_of(r)
    print("late: %d" % code_of(r))
    print("late.new_nonce: %s" %
          ("yes" if ch2 and ch2["nonce"] != ch["nonce"] else "no"))
    if ch2:
        r = roundtrip(tr, {"id": new_id(), "src": "rawtest",
                           "method": "Sys.GetInfo",
                           "auth": auth_obj(ch2, u, p)})
        print("fresh: %s" % outcome(r))


def sc_throttle(tr, args):
    u, p = creds(args[0])
    # A success forgets the peer's earlier failures: count from zero.
    print("reset: %s" % outcome(authed_call(tr, u, p)))
    codes = []
    last = ""
    for _ in range(12):
        r, ch = get_challenge(tr)
        if ch is None:
            codes.append(code_of(r))
            last = outcome(r)
            break
        r = roundtrip(tr, {"id": new_id(), "src": "rawtest",
                           "method": "Sys.GetInfo",
                           "auth": auth_obj(ch, u, p + "-wrong")})
        codes.append(code_of(r))
        last = outcome(r)
        if code_of(r) != 401:
            break
    print("codes: %s" % ",".join(str(c) for c in codes))
    print("last: %s" % last)
    # Slowed down means no guess is evaluated during the wait, the right
    # one included: otherwise a client ignoring 429 guesses at full speed.
    print("right_during_wait: %s" % outcome(authed_call(tr, u, p)))
    m = [w for w in last.split() if w.isdigit()]
    # The refused attempt counts too, so the next delay may be doubled.
    time.sleep(2 * int(m[-1]) / 1000.0 + 0.2 if m else 1.0)
    print("right_after_wait: %s" % outcome(authed_call(tr, u, p)))


def http_challenge(hostport, path="/rpc/RPC.Ping"):
    host, port = hostport.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=5)
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
               % (path, hostport)).encode())
    data = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
    s.close()
    for ln in data.decode("latin-1").split("\r\n"):
        if ln.lower().startswith("www-authenticate:"):
            v = ln.split(":", 1)[1].strip()
            attrs = {}
            for part in v[len("Digest "):].split(","):
                k, _, val = part.strip().partition("=")
                attrs[k] = val.strip('"')
            return attrs
    return None


def http_authz(ch, user, pw, method, uri, nc="00000001", cnonce="0a4f113b"):
    algo = ch.get("algorithm", "MD5")
    ha1 = h(algo, "%s:%s:%s" % (user, ch["realm"], pw))
    ha2 = h(algo, "%s:%s" % (method, uri))
    resp = h(algo, "%s:%s:%s:%s:auth:%s" % (ha1, ch["nonce"], nc, cnonce, ha2))
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", '
            'qop=auth, nc=%s, cnonce="%s", response="%s", algorithm=%s'
            % (user, ch["realm"], ch["nonce"], uri, nc, cnonce, resp, algo))


def sc_upgrade(hostport, args):
    u, p = creds(args[0])
    url = "ws://%s/rpc" % hostport
    ch = http_challenge(hostport)
    print("http_challenge: %s" % ("yes" if ch else "no"))
    if ch is None:
        return
    ws = WS(url, {"Authorization": http_authz(ch, u, p, "GET", "/rpc")})
    print("upgrade: %d" % ws.status)
    if ws.status == 101:
        r = roundtrip(ws, {"id": new_id(), "src": "rawtest",
                           "method": "Sys.GetInfo"})
        print("call: %s" % outcome(r))
        r = roundtrip(ws, {"id": new_id(), "src": "rawtest",
                           "method": "RPC.Ping"})
        print("call2: %s" % outcome(r))
        ws.close()
    # Wrong password on the upgrade: HTTP 401 with a challenge.
    ch = http_challenge(hostport)
    ws = WS(url, {"Authorization": http_authz(ch, u, p + "-wrong", "GET",
                                                "/rpc")})
    print("bad_upgrade: %d" % ws.status)
    print("bad_upgrade.www_authenticate: %s" %
          ("yes" if ws.headers.get("www-authenticate", "").startswith(
              "Digest ") else "no"))
    ws.close()
    # The header of the first upgrade again (same nonce and nc): refused.
    ch = http_challenge(hostport)
    hdr = http_authz(ch, u, p, "GET", "/rpc")
    ws = WS(url, {"Authorization": hdr})
    first = ws.status
    ws.close()
    ws = WS(url, {"Authorization": hdr})
    print("replayed_upgrade: %d,%d" % (first, ws.status))
    ws.close()
    # No Authorization: the upgrade works, frames need their own auth.
    ws = WS(url)
    print("anon_upgrade: %d" % ws.status)
    r, _ = get_challenge(ws)
    print("anon_call: %d" % code_of(r))
    ws.close()


def main():
    sc, t = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    if sc == "upgrade":
        sc_upgrade(t, args)
        return
    tr = open_transport(t)
    try:
        {"challenge": sc_challenge, "call": sc_call, "send": sc_send,
         "frames": sc_frames, "expired": sc_expired,
         "throttle": sc_throttle}[sc](tr, args)
    finally:
        tr.close()


if __name__ == "__main__":
    try:
        main()
    except (OSError, EOFError, TimeoutError) as e:
        print("transport error: %s" % e)
        sys.exit(2)
