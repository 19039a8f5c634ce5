#!/usr/bin/env python3
"""UDP probe for VRRP failover tests: sends a numbered request to VIP:port every `interval` seconds
for `duration` seconds and prints one JSON line per reply: {"t": received, "sent": sent, "from":
responder} (seconds since start; `sent` is when that request left, so a stall of this process
while receiving does not look like an outage). With --serve NAME it is instead the responder:
answers every datagram with NAME and the datagram."""
import json, select, socket, sys, time

if sys.argv[1] == '--serve':
    name, port = sys.argv[2].encode(), int(sys.argv[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', port))
    print('ready', flush=True)
    while True:
        data, peer = s.recvfrom(2048)
        try:
            s.sendto(name + b' ' + data, peer)
        except OSError:
            pass  # this router's link went down under the answer (a crash test): keep serving

vip, port, interval, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
start = time.monotonic()
next_send = start
seq = 0
sent = {}
print(json.dumps({'ready': True}), flush=True)
while True:
    now = time.monotonic()
    if now - start >= duration:
        break
    if now >= next_send:
        seq += 1
        sent[seq] = round(time.monotonic() - start, 4)
        try:
            s.sendto(str(seq).encode(), (vip, port))
        except OSError:
            pass
        next_send += interval
    r, _, _ = select.select([s], [], [], max(0.0, min(next_send, start + duration) - time.monotonic()))
    while r:
        try:
            data = s.recv(2048)
        except OSError:
            break
        parts = data.split(b' ')
        n = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        print(json.dumps({'t': round(time.monotonic() - start, 4), 'sent': sent.get(n, -1), 'from': parts[0].decode()}), flush=True)
        r, _, _ = select.select([s], [], [], 0)
