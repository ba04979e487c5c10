#!/usr/bin/env python3
"""Figure 5 client: open N keep-alive HTTP/1.1 connections to HOST:PORT, make one request on each
(so every connection is established end to end, proxy -> origin included), then hold them all idle.
Prints "READY opened=N failed=F" once every connection is open, then holds until --hold seconds
pass or it is killed (bounded: it always stops by itself). Stdlib only (asyncio).

usage: holdconns.py --port P [--host 127.0.0.1] [-n 5000] [--path /small] [--hold 60] [--tls]
(--tls: each connection is a TLS session, the certificate not verified: the TLS bench's idle sessions)
"""
import argparse, asyncio, resource, ssl, sys


async def open_one(args, sem, conns, failures):
    async with sem:
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(args.host, args.port, ssl=args.ssl), 10)
            w.write(f"GET {args.path} HTTP/1.1\r\nHost: {args.host}\r\n\r\n".encode())
            await w.drain()
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 10)
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await asyncio.wait_for(r.readexactly(length), 10)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
            conns.append((r, w))
        except Exception as e:  # counted, not fatal: the figure divides by what was opened
            failures.append(repr(e))


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("-n", type=int, default=5000)
    p.add_argument("--path", default="/small")
    p.add_argument("--hold", type=float, default=60)
    p.add_argument("--parallel", type=int, default=100, help="connections being opened at once")
    p.add_argument("--tls", action="store_true", help="TLS sessions (no certificate verification)")
    args = p.parse_args()
    args.ssl = None
    if args.tls:
        args.ssl = ssl.create_default_context()
        args.ssl.check_hostname = False
        args.ssl.verify_mode = ssl.CERT_NONE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.n + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.n + 1000), hard))
    sem = asyncio.Semaphore(args.parallel)
    conns, failures = [], []
    await asyncio.gather(*(open_one(args, sem, conns, failures) for _ in range(args.n)))
    print(f"READY opened={len(conns)} failed={len(failures)}", flush=True)
    if failures:
        print("first failure: " + failures[0], file=sys.stderr, flush=True)
    await asyncio.sleep(args.hold)
    for _, w in conns:
        w.close()


if __name__ == "__main__":
    asyncio.run(main())
