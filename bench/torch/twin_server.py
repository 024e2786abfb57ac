"""Serves a PyTorch benchmark twin over stdin/stdout so the studio can alternate ORT and PyTorch rounds under the same load.

Protocol (one JSON object per line on stdout): first {"ready": true, ...info}; then for each line "N" on stdin,
{"ms": [N step times in milliseconds]}; "quit" or end of input stops.
"""
import json
import sys
import time


def serve(step, info):
    """Answers timing requests for `step` (a no-argument callable) until stdin closes."""
    print(json.dumps({"ready": True, **info}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if line in ("", "quit"):
            break
        times = []
        for _ in range(int(line)):
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1000.0)
        print(json.dumps({"ms": times}), flush=True)
