#!/usr/bin/env python3
"""What a group commit's flush costs on this machine's disk: N writes of CHUNK bytes, each
followed by fdatasync, into a file that grows by appending, into one whose blocks were
written before (as a reused WAL's are), and into one grown ahead by STEP bytes of zeros.

    python3 bench/fsync_cost.py [directory]     # default: the current directory

Prints wall time and CPU per commit and the p50/p99/max of one commit, per mode and run.
"""
import os
import sys
import time

N = 1500
CHUNK = 60 * 1024  # about one group commit of a dozen messages in the WAL


def run(directory, mode, step=0):
    path = os.path.join(directory, "fsync_cost.bin")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if mode == "overwrite":
            zeros = b"\0" * (1 << 20)
            for _ in range(N * CHUNK // len(zeros) + 1):
                os.write(fd, zeros)
            os.fsync(fd)
        data = os.urandom(CHUNK)
        written = 0
        latencies = []
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for i in range(N):
            start = time.perf_counter()
            end = (i + 1) * CHUNK
            if mode == "grow" and end > written:
                target = (end + step - 1) // step * step
                os.pwrite(fd, b"\0" * (target - written), written)
                written = target
            os.pwrite(fd, data, i * CHUNK)
            os.fdatasync(fd)
            latencies.append(time.perf_counter() - start)
        wall = (time.perf_counter() - wall0) / N * 1e6
        cpu = (time.process_time() - cpu0) / N * 1e6
    finally:
        os.close(fd)
        os.unlink(path)
    latencies.sort()
    return wall, cpu, latencies[N // 2] * 1e6, latencies[int(N * 0.99)] * 1e6, latencies[-1] * 1e6


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "."
    for _ in range(2):
        for mode, step in (("append", 0), ("overwrite", 0), ("grow", 1 << 20), ("grow", 4 << 20)):
            wall, cpu, p50, p99, top = run(directory, mode, step)
            name = mode if not step else "%s %d MiB" % (mode, step >> 20)
            print("%-13s wall %5.0f µs  cpu %5.0f µs per commit;  p50 %5.0f  p99 %6.0f  max %6.0f µs"
                  % (name, wall, cpu, p50, p99, top))


if __name__ == "__main__":
    main()
