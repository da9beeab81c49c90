"""Known vulnerabilities in the locked dependencies (issue 17 §4), as .ci/run checks them before the tests.

    python3 -m uv export --format requirements-txt --all-groups --no-emit-project --frozen > /tmp/req.txt
    python3 -m uv run python .ci/audit.py /tmp/req.txt

Reads uv.lock's pins as `uv export` writes them (every group: what CI installs) and asks pip-audit about each
against PyPI's advisories and OSV's. A vulnerability fails the run unless EXPLAINED below names it with the
reason it does not apply.
Where neither database can be reached (this machine reaches package files but no advisory service: PyPI's
JSON API answers 404 for every package, api.osv.dev does not resolve), the run is not audited, and this says so
in a banner on stderr instead of passing in silence; docs/operations.md says how to audit where the network
allows. Exit 0 when audited clean or unaudited, 1 on an unexplained vulnerability.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

# Advisory ID -> why it does not apply to oretrail (none yet).
EXPLAINED: dict[str, str] = {}
SOURCES = ("pypi", "osv")


def _audit(requirements: Path, source: str, out: Path) -> tuple[list[dict[str, object]], str | None]:
    """(dependencies as pip-audit reports them, or why the source could not be asked)."""
    done = subprocess.run(
        [sys.executable, "-m", "pip_audit", "-r", str(requirements), "--no-deps", "--disable-pip", "-s", source,
         "-f", "json", "-o", str(out), "--progress-spinner", "off"],
        capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    if not out.exists() or not out.read_text().strip():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return [], f"pip-audit -s {source} failed: {last[:300]}"
    deps: list[dict[str, object]] = json.loads(out.read_text())["dependencies"]
    if all("skip_reason" in d for d in deps):
        return deps, f"{source}: none of {len(deps)} packages could be looked up ({deps[0].get('skip_reason')})"
    return deps, None


def main() -> int:
    requirements = Path(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        audited: set[str] = set()
        found: dict[str, list[str]] = {}
        why_not: list[str] = []
        for source in SOURCES:
            deps, failure = _audit(requirements, source, Path(tmp) / f"{source}.json")
            if failure:
                why_not.append(failure)
                continue
            for dep in deps:
                if "skip_reason" in dep:
                    continue
                audited.add(str(dep["name"]))
                for vuln in dep.get("vulns", []):  # type: ignore[attr-defined]
                    found.setdefault(str(vuln["id"]), []).append(f"{dep['name']} {dep['version']}")
    unexplained = {k: v for k, v in found.items() if k not in EXPLAINED}
    for vid, where in sorted(found.items()):
        mark = "explained: " + EXPLAINED[vid] if vid in EXPLAINED else "UNEXPLAINED"
        print(f"pip-audit: {vid} in {', '.join(where)} ({mark})", file=sys.stderr)
    if not audited:
        bar = "!" * 78
        print(f"\n{bar}\n!! NOT AUDITED: no vulnerability database could be reached from this machine.\n"
              + "".join(f"!!   {line}\n" for line in why_not)
              + "!! The dependencies were NOT checked for known vulnerabilities. Run .ci/audit.py where the network\n"
              f"!! reaches PyPI's JSON API or api.osv.dev (docs/operations.md, 'Known vulnerabilities').\n{bar}\n",
              file=sys.stderr)  # fmt: skip
        return 0
    print(f"pip-audit: {len(audited)} packages audited ({', '.join(SOURCES)}); "
          f"{len(found)} known vulnerabilities, {len(unexplained)} unexplained", file=sys.stderr)  # fmt: skip
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
