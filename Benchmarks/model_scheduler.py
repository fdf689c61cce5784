"""A model of the synthesis scheduler under a burst of streams that all start at once.

    python3 Benchmarks/model_scheduler.py [--engine hibari|flite] [--streams 64,100] [--pairing 64]
                                          [--opening 2] [--seeds 3] [--dearer 1.0]

Not a measurement: a discrete-event model of what `SynthesisScheduler` and the audio pipeline did
before a piece's deadline moved with its stream's first audio (`PieceDeadline`, 2026-11-27): its
deadlines stay as guessed when each piece is started. For reasoning about orders before trying
them on the machine (where one burst says little). It
models `threads` workers taking the queued piece with the earliest deadline (ties in the order
they came); streams of 1,000 characters cut as `PieceSizes` cuts them (24 characters first, each
next a quarter longer, never across a sentence of ~45 characters), each keeping three pieces in
flight; a piece's deadline as `PipelineState.deadline` sets it (at once for a first piece, else
the first audio — or, before it, the moment the piece is queued — plus the audio ahead, guessed
at 0.04 s a character until measured, less a 0.5 s margin); and a piece's cost as a fixed part
plus a part per second of audio, each ±30 % at random. With `--pairing T`, while at least T first
pieces wait, a stream's second piece (and with `--opening 3` its third) counts as due when its
first was. A stream stalls when a piece comes after the audio before it has played out from the
first audio. Prints, per stream count, the stalled streams of each seed and the mean first-byte
p50 / p95.

The costs are this VM's (release build, from `/proc/<pid>/stat` around requests of different
lengths): hibari ~8 ms a piece + 12.5 ms per second of audio, Flite ~7 ms + 12.8 ms; `--dearer`
multiplies both (this VM is slower at some hours than at others).
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import random

ENGINES = {"hibari": (0.008, 0.0125, 0.060), "flite": (0.007, 0.0128, 0.057)}  # fixed s, s per audio s, audio s per char


def piece_lengths(total: int = 1000, first: int = 24, growth: float = 1.25, sentence: int = 45) -> list[int]:
    lengths, position, length, left = [], 0, float(first), sentence
    while position < total:
        piece = min(int(length), left, total - position)
        lengths.append(piece)
        position += piece
        left = left - piece or sentence
        length = max(length * growth, length + 1)
    return lengths


def burst(streams: int, engine: str, pairing: int, opening: int, seed: int, dearer: float = 1.0, threads: int = 2,
          margin: float = 0.5, guess: float = 0.04, in_flight: int = 3) -> tuple[int, list[float]]:
    fixed, per_second, per_char = ENGINES[engine]
    fixed, per_second = fixed * dearer, per_second * dearer
    rng = random.Random(seed)
    state = [{"pieces": piece_lengths(), "next": 0, "flight": [], "first": None, "made": 0.0, "stalled": False}
             for _ in range(streams)]
    queue: list[tuple[float, int, int, int]] = []  # (deadline, order, stream, piece)
    order = itertools.count()

    def audio(k: int, i: int) -> float:
        return state[k]["pieces"][i] * per_char

    def fill(k: int, now: float) -> None:
        s = state[k]
        while len(s["flight"]) < in_flight and s["next"] < len(s["pieces"]):
            rate = per_char if s["made"] > 0 else guess
            ahead = s["made"] + sum(s["pieces"][i] * rate for i in s["flight"])
            due = 0.0 if ahead == 0 else (s["first"] if s["first"] is not None else now) + ahead - margin
            queue.append((due, next(order), k, s["next"]))
            s["flight"].append(s["next"])
            s["next"] += 1

    def key(job: tuple[float, int, int, int], pairing_now: bool) -> tuple[float, int]:
        due, seq, k, i = job
        if pairing_now and 0 < i < opening:
            return (0.0, seq)  # every stream starts at 0: due when its first piece was
        return (due, seq)

    for k in range(streams):
        fill(k, 0.0)
    running: list[tuple[float, int, int]] = []
    done: set[tuple[int, int]] = set()
    now, idle = 0.0, threads
    while True:
        while idle and queue:
            pairing_now = sum(1 for job in queue if job[3] == 0) >= pairing
            job = min(queue, key=lambda job: key(job, pairing_now))
            queue.remove(job)
            _, _, k, i = job
            cost = (fixed + per_second * audio(k, i)) * (1 + rng.uniform(-0.3, 0.3))
            heapq.heappush(running, (now + cost, k, i))
            idle -= 1
        if not running:
            break
        now, k, i = heapq.heappop(running)
        idle += 1
        done.add((k, i))
        s = state[k]
        while s["flight"] and (k, s["flight"][0]) in done:
            piece = s["flight"].pop(0)
            if s["first"] is None:
                s["first"] = now
            elif now > s["first"] + s["made"]:
                s["stalled"] = True
            s["made"] += audio(k, piece)
            fill(k, now)
    return sum(s["stalled"] for s in state), sorted(s["first"] for s in state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=sorted(ENGINES), default="hibari")
    parser.add_argument("--streams", default="64,80,100")
    parser.add_argument("--pairing", type=int, default=64, help="first pieces waiting before openings pair (0: never)")
    parser.add_argument("--opening", type=int, default=2, choices=[2, 3], help="pieces kept together")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--dearer", type=float, default=1.0, help="cost factor for every piece (1-3)")
    args = parser.parse_args()
    if not 1 <= args.seeds <= 20 or not 1 <= args.dearer <= 3:
        parser.error("--seeds between 1 and 20; --dearer between 1 and 3")
    try:
        counts = [int(count) for count in args.streams.split(",")]
    except ValueError:
        parser.error("--streams is stream counts separated by commas")
    if any(not 1 <= count <= 500 for count in counts):
        parser.error("--streams counts between 1 and 500")
    pairing = args.pairing if args.pairing > 0 else 1 << 30
    for count in counts:
        for label, threshold in (("first pieces first", 1 << 30), (f"pairing at {args.pairing}", pairing)):
            stalls, p50, p95 = [], 0.0, 0.0
            for seed in range(args.seeds):
                stalled, firsts = burst(count, args.engine, threshold, args.opening, seed, args.dearer)
                stalls.append(stalled)
                p50 += firsts[len(firsts) // 2] / args.seeds
                p95 += firsts[max(int(len(firsts) * 0.95) - 1, 0)] / args.seeds
            print(f"{args.engine} {count:>4} streams, {label:<18}: stalled {stalls}, first byte p50 {p50:.2f} s"
                  f" p95 {p95:.2f} s")


if __name__ == "__main__":
    main()
