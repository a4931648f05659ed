"""CPython asyncio / uvloop side of tsyncio's benchmark (the workloads of bench/README.md).

One process = one measurement: runs one workload once inside asyncio.run() and prints one JSON line.
CLI: --workload NAME [--n N] [--rep K] [--loop asyncio|uvloop] [--warmup]
--warmup first runs the same workload at N/20, twice (untimed), so every system gets the same warm-up.
"""
import argparse
import asyncio
import gc
import json
import os
import platform
import resource
import sys
import time

now = time.perf_counter
sys.setrecursionlimit(10_000)  # deep_await nests 1,000 coroutine frames


def delay_ms(i):
    return (i * 7919 % 10007) * 10 / 10007


def check(cond, what):
    if not cond:
        raise AssertionError(what)


async def w_switch(n):
    t0 = now()
    for _ in range(n):
        await asyncio.sleep(0)
    return {"n": n, "seconds": now() - t0, "unit": "zero-delay yields"}


async def w_pingpong(n):
    q1, q2 = asyncio.Queue(), asyncio.Queue()

    async def ping():
        for i in range(n):
            q1.put_nowait(i)
            check(await q2.get() == i, "pingpong order")

    async def pong():
        for _ in range(n):
            q2.put_nowait(await q1.get())

    t0 = now()
    await asyncio.gather(asyncio.create_task(ping()), asyncio.create_task(pong()))
    return {"n": n, "seconds": now() - t0, "unit": "round trips"}


async def w_spawn_gather(n):
    async def child(i):
        await asyncio.sleep(0)
        return i

    t0 = now()
    tasks = [asyncio.create_task(child(i)) for i in range(n)]
    res = await asyncio.gather(*tasks)
    seconds = now() - t0
    check(sum(res) == n * (n - 1) // 2, "spawn_gather sum")
    return {"n": n, "seconds": seconds, "unit": "tasks"}


async def w_gather_coros(n):
    async def child(i):
        await asyncio.sleep(0)
        return i

    t0 = now()
    res = await asyncio.gather(*(child(i) for i in range(n)))
    seconds = now() - t0
    check(sum(res) == n * (n - 1) // 2, "gather_coros sum")
    return {"n": n, "seconds": seconds, "unit": "tasks"}


async def w_deep_await(n):
    # n = total awaits = depth 1000 x (n // 1000) repeats
    depth = 1000
    repeats = max(1, n // depth)

    async def rec(d):
        if d == 0:
            return 0
        return (await rec(d - 1)) + 1

    t0 = now()
    for _ in range(repeats):
        check(await rec(depth) == depth, "deep_await result")
    return {"n": depth * repeats, "seconds": now() - t0, "unit": "awaits"}


def percentile(sorted_vals, p):
    # nearest-rank
    k = max(1, -(-len(sorted_vals) * p // 100))
    return sorted_vals[int(k) - 1]


async def w_timers(n):
    overs = [0.0] * n

    async def sleeper(i):
        d = delay_ms(i)
        t = now()
        await asyncio.sleep(d / 1000)
        overs[i] = (now() - t) * 1000 - d

    t0 = now()
    await asyncio.gather(*[asyncio.create_task(sleeper(i)) for i in range(n)])
    seconds = now() - t0
    s = sorted(overs)
    return {
        "n": n, "seconds": seconds, "unit": "timers", "wall_s": seconds,
        "overshoot_ms_min": s[0], "overshoot_ms_mean": sum(s) / n,
        "overshoot_ms_p50": percentile(s, 50), "overshoot_ms_p99": percentile(s, 99),
        "overshoot_ms_max": s[-1],
    }


async def sleeper_long():
    await asyncio.sleep(3600)


async def w_cancel(n):
    t0 = now()
    tasks = [asyncio.create_task(sleeper_long()) for _ in range(n)]
    await asyncio.sleep(0)
    t1 = now()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    t2 = now()
    check(all(t.cancelled() for t in tasks), "all cancelled")
    return {"n": n, "seconds": t2 - t1, "unit": "cancellations", "create_s": t1 - t0}


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


async def w_mem_tasks(n):
    import tracemalloc

    async def one_pass(measure):
        gc.collect()
        m0 = measure()
        t0 = now()
        tasks = [asyncio.create_task(sleeper_long()) for _ in range(n)]
        await asyncio.sleep(0)
        seconds = now() - t0
        gc.collect()
        m1 = measure()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return (m1 - m0) / n, seconds

    rss_per, seconds = await one_pass(rss_bytes)
    tracemalloc.start()
    heap_per, _ = await one_pass(lambda: tracemalloc.get_traced_memory()[0])
    tracemalloc.stop()
    return {"n": n, "seconds": seconds, "unit": "tasks created+started", "heap_bytes_per_task": heap_per,
            "rss_bytes_per_task": rss_per, "heap_how": "tracemalloc"}


async def w_echo(n):
    # n = total round trips = 50 clients x (n // 50)
    clients = 50
    per_client = max(1, n // clients)
    msg = b"x" * 63 + b"\n"

    async def handle(reader, writer):
        while True:
            line = await reader.readline()
            if not line:
                break
            writer.write(line)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def client():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(per_client):
            writer.write(msg)
            await writer.drain()
            check(await reader.readline() == msg, "echo line")
        writer.close()
        await writer.wait_closed()

    t0 = now()
    await asyncio.gather(*(client() for _ in range(clients)))
    seconds = now() - t0
    server.close()
    await server.wait_closed()
    return {"n": clients * per_client, "seconds": seconds, "unit": "round trips"}


MSG64 = b"x" * 63 + b"\n"


async def w_proto_echo(n):
    # 50 Protocol clients x (n // 50) round trips against a Protocol server that writes back what it gets.
    loop = asyncio.get_running_loop()
    clients = 50
    per_client = max(1, n // clients)

    class EchoServer(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport

        def data_received(self, data):
            self.transport.write(data)

    class Client(asyncio.Protocol):
        def __init__(self, done):
            self.done = done
            self.got = 0
            self.left = per_client

        def connection_made(self, transport):
            self.transport = transport
            transport.write(MSG64)

        def data_received(self, data):
            self.got += len(data)
            if self.got < 64:
                return
            check(self.got == 64 and data[-1:] == b"\n", "echo reply")
            self.got = 0
            self.left -= 1
            if self.left > 0:
                self.transport.write(MSG64)
            else:
                self.transport.close()

        def connection_lost(self, exc):
            if exc is not None:
                self.done.set_exception(exc)
            else:
                check(self.left == 0, "all round trips")
                self.done.set_result(None)

    server = await loop.create_server(EchoServer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    t0 = now()
    dones = [loop.create_future() for _ in range(clients)]
    await asyncio.gather(*(loop.create_connection(lambda d=d: Client(d), "127.0.0.1", port) for d in dones))
    await asyncio.gather(*dones)
    seconds = now() - t0
    server.close()
    await server.wait_closed()
    return {"n": clients * per_client, "seconds": seconds, "unit": "round trips"}


async def w_udp_pingpong(n):
    # A DatagramProtocol echo server, 10 connected clients x (n // 10) round trips of 64 bytes.
    loop = asyncio.get_running_loop()
    clients = 10
    per_client = max(1, n // clients)

    class EchoServer(asyncio.DatagramProtocol):
        def connection_made(self, transport):
            self.transport = transport

        def datagram_received(self, data, addr):
            self.transport.sendto(data, addr)

    class Client(asyncio.DatagramProtocol):
        def __init__(self, done):
            self.done = done
            self.left = per_client

        def connection_made(self, transport):
            self.transport = transport

        def datagram_received(self, data, addr):
            check(len(data) == 64 and data[-1:] == b"\n", "udp reply")
            self.left -= 1
            if self.left > 0:
                self.transport.sendto(MSG64)
            else:
                self.done.set_result(None)

        def error_received(self, exc):
            self.done.set_exception(exc)

    st, _ = await loop.create_datagram_endpoint(EchoServer, local_addr=("127.0.0.1", 0))
    addr = st.get_extra_info("sockname")
    t0 = now()
    dones = []
    transports = []
    for _ in range(clients):
        done = loop.create_future()
        dones.append(done)
        t, _ = await loop.create_datagram_endpoint(lambda d=done: Client(d), remote_addr=addr)
        transports.append(t)
        t.sendto(MSG64)
    await asyncio.wait_for(asyncio.gather(*dones), 120)
    seconds = now() - t0
    for t in transports:
        t.close()
    st.close()
    return {"n": clients * per_client, "seconds": seconds, "unit": "round trips"}


WORKLOADS = {
    "switch": (w_switch, 1_000_000),
    "pingpong": (w_pingpong, 200_000),
    "spawn_gather": (w_spawn_gather, 100_000),
    "gather_coros": (w_gather_coros, 100_000),
    "deep_await": (w_deep_await, 1_000_000),
    "timers": (w_timers, 100_000),
    "timers_light": (w_timers, 100),
    "cancel": (w_cancel, 100_000),
    "mem_tasks": (w_mem_tasks, 200_000),
    "echo": (w_echo, 100_000),
    "echo_short": (w_echo, 25_000),
    "proto_echo": (w_proto_echo, 100_000),
    "udp_pingpong": (w_udp_pingpong, 100_000),
}


# Warm-up rounds, as bench/common.mjs's WARMUP_ROUNDS (all systems alike).
WARMUP_ROUNDS = 2


def thread_times():
    """The main thread's on-CPU time and run-queue wait so far, in ms (Linux schedstat), else None."""
    try:
        with open(f"/proc/self/task/{os.getpid()}/schedstat") as f:
            cpu, wait = f.read().split()[:2]
        return int(cpu) / 1e6, int(wait) / 1e6
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    ap.add_argument("--n", type=int)
    ap.add_argument("--rep", type=int, default=1)
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    ap.add_argument("--warmup", action="store_true")
    args = ap.parse_args()
    fn, default_n = WORKLOADS[args.workload]
    n = args.n or default_n
    system = "cpython-" + args.loop
    version = platform.python_version()
    if args.loop == "uvloop":
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        version += " uvloop " + uvloop.__version__
    line = {"system": system, "workload": args.workload, "rep": args.rep, "version": version}
    try:
        async def run():
            if args.warmup and args.workload not in ("mem_tasks", "timers_light"):
                for _ in range(WARMUP_ROUNDS):
                    await fn(max(1, n // 20))
            t0 = thread_times()
            out = await fn(n)
            t1 = thread_times()
            if t0 is not None and t1 is not None:
                out["cpu_ms"] = t1[0] - t0[0]
                out["wait_ms"] = t1[1] - t0[1]
            return out

        out = asyncio.run(run())
        line.update(out)
        line["ops_per_s"] = out["n"] / out["seconds"]
    except Exception as e:  # recorded as a failed measurement
        line["error"] = f"{type(e).__name__}: {e}"
    line["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(line))


if __name__ == "__main__":
    main()
