"""Coverage-guided fuzzing of the EPCIS reader with atheris (issue 17 §3): any exception other than our
refusal (IntakeError, which names document, event and field) is a finding, and atheris stops on it and
writes the input to crash-<hash> in the working folder.

    uv run --with atheris python bench/fuzz_epcis.py [--seconds 300] [--corpus DIR]

atheris is not a project dependency (a 35 MB wheel used by hand, not by the suite): `--with` brings it for
one run. The seed corpus is the first events of simulated documents, one or two events each, so mutations
stay small enough to be fast; the corpus folder keeps what atheris learns between runs. Inputs that once
broke the reader become cases in tests/hostile/test_corpus.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from common import DATA, dataset


def _seeds(corpus: Path) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    if any(corpus.iterdir()):
        return
    docs = [orjson.loads(p.read_bytes()) for p in sorted((dataset(0.01) / "events").iterdir())]
    for d, doc in enumerate(docs):
        events = doc["epcisBody"]["eventList"]
        for i in range(0, min(len(events), 60), 3):  # every kind of event the simulator writes, a few at a time
            doc["epcisBody"]["eventList"] = events[i : i + 1 + i % 2]
            (corpus / f"seed-{d}-{i:03d}.json").write_bytes(orjson.dumps(doc))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--corpus", type=Path, default=DATA / "fuzz-epcis")
    args = parser.parse_args()
    _seeds(args.corpus)

    import atheris

    from oretrail.errors import IntakeError
    from oretrail.intake.epcis import read_document

    atheris.instrument_all()  # oretrail is partly imported already (the dataset above): instrument what is loaded

    def one(data: bytes) -> None:
        try:
            read_document(data, "fuzz.json")
        except IntakeError as refusal:
            if refusal.document != "fuzz.json" or not refusal.reason:
                raise AssertionError(f"a refusal that names nothing: {refusal!r}") from None

    atheris.Setup(
        [sys.argv[0], f"-max_total_time={args.seconds}", "-max_len=20000", "-rss_limit_mb=4096", str(args.corpus)],
        one,
    )
    atheris.Fuzz()


if __name__ == "__main__":
    main()
