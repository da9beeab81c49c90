"""CBV 2.0 vocabularies and the namespaces intake resolves.

A CBV term reaches us in several spellings: the bare word of EPCIS 2.0 JSON (`shipping`), the EPCIS 1.x
URN (`urn:epcglobal:cbv:bizstep:shipping`), the compact IRI (`cbv:BizStep-shipping`) and the full web IRI
(`https://ref.gs1.org/cbv/BizStep-shipping`). Everything downstream compares short names only, so every
spelling is folded here, once. A value outside the CBV that is a URI is a legitimate extension and is kept
whole (even in the CBV's own namespace, like `cbv:my_own_party`, which the OpenEPCIS suite treats as
valid); a bare word outside the CBV, or an unknown term under a vocabulary's own prefix
(`cbv:BizStep-transforming`), is a typo or an invention, and is refused.

The term lists follow CBV 2.0 (the same lists the ratified EPCIS 2.0.1 JSON Schema carries); our own
`epcis_schema.json` repeats them, and a test keeps the two equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from oretrail.i18n.message import Message, Said

CBV_NS = "https://ref.gs1.org/cbv/"
CBV_URN = "urn:epcglobal:cbv:"
GS1_NS = "https://gs1.org/voc/"
OT_NS = "https://oretrail.org/ns/"

STANDARD_PREFIXES: Mapping[str, str] = {
    # The prefixes the EPCIS 2.0 JSON-LD context defines. Every EPCIS 2.0 document must reference that
    # context, and we never fetch it, so its prefixes are known here.
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": CBV_NS,
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": GS1_NS,
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}

EVENT_TYPES = frozenset(
    {"ObjectEvent", "AggregationEvent", "AssociationEvent", "TransactionEvent", "TransformationEvent"}
)
ACTIONS = frozenset({"ADD", "OBSERVE", "DELETE"})

BIZ_STEPS = frozenset(
    {
        "accepting", "arriving", "assembling", "collecting", "commissioning", "consigning",
        "creating_class_instance", "cycle_counting", "decommissioning", "departing", "destroying",
        "disassembling", "dispensing", "encoding", "entering_exiting", "holding", "inspecting", "installing",
        "killing", "loading", "other", "packing", "picking", "receiving", "removing", "repackaging",
        "repairing", "replacing", "reserving", "retail_selling", "sampling", "sensor_reporting", "shipping",
        "staging_outbound", "stock_taking", "stocking", "storing", "transporting", "unloading", "unpacking",
        "void_shipping",
    }
)  # fmt: skip
DISPOSITIONS = frozenset(
    {
        "active", "available", "completeness_inferred", "completeness_verified", "conformant",
        "container_closed", "container_open", "damaged", "destroyed", "dispensed", "disposed", "encoded",
        "expired", "in_progress", "in_transit", "inactive", "mismatch_class", "mismatch_instance",
        "mismatch_quantity", "needs_replacement", "no_pedigree_match", "non_conformant", "non_sellable_other",
        "partially_dispensed", "recalled", "reserved", "retail_sold", "returned", "sellable_accessible",
        "sellable_not_accessible", "stolen", "unavailable", "unknown",
    }
)  # fmt: skip
BIZ_TRANSACTION_TYPES = frozenset(
    {"bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma", "testprd",
     "testres", "upevt"}
)  # fmt: skip
SOURCE_DEST_TYPES = frozenset({"owning_party", "possessing_party", "location"})
ERROR_REASONS = frozenset({"did_not_occur", "incorrect_data"})
COMPONENTS = frozenset(
    {"x", "y", "z", "axial_distance", "azimuth", "height", "spherical_radius", "polar_angle",
     "elevation_angle", "easting", "northing", "latitude", "longitude", "altitude"}
)  # fmt: skip
SENSOR_ALERT_TYPES = frozenset({"ALARM_CONDITION", "ERROR_CONDITION"})


class VocabularyError(ValueError):
    """A value that no spelling of the vocabulary admits; `said` is for the sender, in either language."""

    def __init__(self, said: Said) -> None:
        super().__init__(str(said))
        self.said = said


NOT_CBV = Message("intake.cbv.not_a_term", "'{value}' is not a CBV {label} nor a URI")
NO_CBV = Message("intake.cbv.no_term", "'{value}' names no CBV {label}")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    label: str  # as an officer reads it: "business step"
    terms: frozenset[str]
    urn: str  # EPCIS 1.x spelling, e.g. urn:epcglobal:cbv:bizstep:
    web: str  # CBV 2.0 web IRI, e.g. https://ref.gs1.org/cbv/BizStep-

    def normalise(self, value: str, prefixes: Mapping[str, str] = STANDARD_PREFIXES) -> str:
        """The CBV short name of `value`, or the full URI of a non-CBV value.

        `prefixes` are the document's compact-IRI prefixes (STANDARD_PREFIXES plus its @context), so that
        a document which binds another prefix to the CBV namespace is read the same way.
        """
        if value in self.terms:
            return value
        if ":" not in value:
            raise VocabularyError(NOT_CBV(value=value, label=LABELS[self.label]()))
        iri = expand(value, prefixes)
        for namespace in (self.web, self.urn):
            if iri.startswith(namespace):
                term = iri[len(namespace) :]
                if term in self.terms:
                    return term
                raise VocabularyError(NO_CBV(value=value, label=LABELS[self.label]()))
        return iri


# The vocabularies' names as a sender reads them in a refusal.
LABELS = {
    label: Message(f"intake.cbv.{label.replace(' ', '_').replace('/', '_')}", label)
    for label in ("business step", "disposition", "business transaction type", "source/destination type",
                  "error reason")
}  # fmt: skip
BIZ_STEP = Vocabulary("business step", BIZ_STEPS, CBV_URN + "bizstep:", CBV_NS + "BizStep-")
DISPOSITION = Vocabulary("disposition", DISPOSITIONS, CBV_URN + "disp:", CBV_NS + "Disp-")
BIZ_TRANSACTION_TYPE = Vocabulary("business transaction type", BIZ_TRANSACTION_TYPES, CBV_URN + "btt:", CBV_NS + "BTT-")
SOURCE_DEST_TYPE = Vocabulary("source/destination type", SOURCE_DEST_TYPES, CBV_URN + "sdt:", CBV_NS + "SDT-")
ERROR_REASON = Vocabulary("error reason", ERROR_REASONS, CBV_URN + "er:", CBV_NS + "ER-")


def is_full_iri(key: str) -> bool:
    """True for an absolute IRI written out (`https://…`, `urn:…`), as opposed to a compact `prefix:name`."""
    scheme, _, rest = key.partition(":")
    return scheme in ("http", "https", "urn") or rest.startswith("//")


def expand(value: str, prefixes: Mapping[str, str]) -> str:
    """JSON-LD compact IRI expansion: `cbv:BizStep-shipping` → `https://ref.gs1.org/cbv/BizStep-shipping`."""
    prefix, sep, rest = value.partition(":")
    if sep and not rest.startswith("//"):
        base = prefixes.get(prefix)
        if base is not None:
            return base + rest
    return value


def context_prefixes(context: object, into: dict[str, str]) -> dict[str, str]:
    """Add the prefixes a JSON-LD @context (string, object or list of those) binds; returns `into`.

    Remote contexts (strings) are not fetched: the EPCIS context's prefixes are in STANDARD_PREFIXES, and
    any other remote context cannot declare prefixes we can rely on without the network.
    """
    if isinstance(context, list):
        for item in context:
            context_prefixes(item, into)
    elif isinstance(context, dict):
        for term, definition in context.items():
            if term.startswith("@"):
                continue
            if isinstance(definition, str):
                into[term] = definition
            elif isinstance(definition, dict) and isinstance(definition.get("@id"), str):
                into[term] = definition["@id"]
    return into
