"""How long `read_document` (validation layers 1–3 and the chain reading) takes per profile event.

The capture pipeline must reach 5,000 events/s, so intake has to stay well under 100 µs per event.
Run: `uv run python bench/validate.py [events]`; prints the median of 5 runs.
"""

from __future__ import annotations

import importlib
import statistics
import sys
import time
from pathlib import Path

from oretrail.intake.epcis import read_document

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.intake
b = importlib.import_module("tests.intake.builders")


def profile_document(n: int) -> bytes:
    """`n` events cycling through the seven stages, each with its own lots and eventID."""
    makers = [
        lambda i: b.mining([(b.lot(f"ore-{i}"), 1000.0 + i)]),
        lambda i: b.smelting(inputs=[(b.lot(f"ore-{i}"), 1000.0)], outputs=[(b.lot(f"conc-{i}"), 80.5)]),
        lambda i: b.processing(inputs=[(b.lot(f"conc-{i}"), 80.5)], outputs=[(b.lot(f"apt-{i}"), 60.25)]),
        lambda i: b.shipping([(b.lot(f"apt-{i}"), 60.25)], f"urn:oretrail:waybill:WB{i}"),
        lambda i: b.receiving([(b.lot(f"apt-{i}"), 60.25)], f"urn:oretrail:waybill:WB{i}"),
        lambda i: b.manufacturing(inputs=[(b.lot(f"apt-{i}"), 60.25)], outputs=[(b.lot(f"wc-{i}"), 40.0)]),
        lambda i: b.sales([(b.lot(f"wc-{i}"), 40.0)], f"urn:oretrail:invoice:INV{i}"),
        lambda i: b.export([(b.lot(f"wc-{i}"), 40.0)], f"5301202500{i:08d}"),
    ]
    return b.encode(b.document(*(makers[i % len(makers)](i) for i in range(n))))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    data = profile_document(n)
    read_document(data, "warm-up")
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        events = read_document(data, "bench")
        runs.append(time.perf_counter() - start)
    assert len(events) == n
    median = statistics.median(runs)
    print(f"read_document: {n} profile events, {len(data) / n:.0f} bytes/event")
    print(f"median of 5: {median * 1e3:.1f} ms = {median / n * 1e6:.1f} µs/event ({n / median:,.0f} events/s)")


if __name__ == "__main__":
    main()
