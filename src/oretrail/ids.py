"""The identifiers and names every stage shares (SPEC.md §1–2): who, where, at which stage, under which
business document.

They sit on the ground floor because intake writes them, the projector reads them, routing sends alerts by
them and the simulator invents them: declared once here, no stage has to import a later one to spell a
party or a stage.
"""

from __future__ import annotations

import re
from functools import lru_cache

from stdnum.cn import uscc as _uscc

STAGES = ("mining", "smelting", "processing", "transportation", "manufacturing", "sales", "export")
FACILITY_TYPES = ("mine", "smelter", "refinery", "processor", "factory", "warehouse", "port")

PARTY_PREFIX = "urn:oretrail:party:uscc:"  # + USCC (GB 32100-2015)
LOCATION_PREFIX = "urn:oretrail:loc:"  # + owner's USCC + ":" + the owner's own code
PORT_PREFIX = "urn:oretrail:port:"  # + UN/LOCODE
SGLN_PREFIX = "urn:epc:id:sgln:"  # GS1 locations, as enterprises already labelled with GS1 write them
DECLARATION_PREFIX = "urn:oretrail:declaration:"  # + customs declaration number

# Business transaction types (CBV 2.0 §8.5 short names, and ours for the customs declaration).
BTT_BOL = "bol"
BTT_INVOICE = "inv"
BTT_DECLARATION = "urn:oretrail:btt:declaration"

LOCATION_CODE = re.compile(r"^\S+$")


@lru_cache(maxsize=65536)
def party_of_location(location_id: str) -> str | None:
    """The owner's party id implied by an oretrail facility URI; None for ports, SGLNs and malformed ids.

    Asked for at nearly every event, of a few thousand facilities: the USCC check is worth remembering."""
    if not location_id.startswith(LOCATION_PREFIX):
        return None
    rest = location_id.removeprefix(LOCATION_PREFIX)
    uscc, sep, code = rest.partition(":")
    if not sep or not LOCATION_CODE.match(code) or not _uscc.is_valid(uscc) or uscc != _uscc.compact(uscc):
        return None
    return PARTY_PREFIX + uscc
