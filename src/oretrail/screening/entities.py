"""Watch-list entities read from FollowTheMoney JSON Lines, the form OpenSanctions publishes.

The followthemoney model does the parsing and value cleaning (schema inheritance, country codes, property
types), so a list that uses a schema or property we never heard of is read the way OpenSanctions means it.
Only legal-entity-like schemata are kept: a sanctioned vessel or a passport cannot be a consignee.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from followthemoney import EntityProxy, model
from followthemoney.exc import InvalidData

from oretrail.errors import IntakeError
from oretrail.i18n.message import Message, Said
from oretrail.limits import NotJSON, read_json, too_long

# Strong names identify the entity; weak ones ("weakAlias", acronyms) are too short or generic to screen
# fuzzily and only count when a counterparty's name equals one of them.
STRONG_NAME_PROPS: tuple[str, ...] = ("name", "alias", "previousName")
WEAK_NAME_PROPS: tuple[str, ...] = ("weakAlias", "abbreviation")
COUNTRY_PROPS: tuple[str, ...] = ("country", "jurisdiction", "mainCountry", "nationality", "citizenship")
SCREENED_SCHEMA = "LegalEntity"  # Company, Organization, PublicBody and Person all descend from it


NOT_OBJECT = Message("intake.watchlist.not_object", "not a JSON object")
NO_ID = Message("intake.watchlist.no_id", "missing or not a string")
UNKNOWN_SCHEMA = Message("intake.watchlist.unknown_schema", "unknown schema {value!r}")
PROPERTIES = Message("intake.watchlist.properties", "not an object")
NOT_STRINGS = Message("intake.watchlist.not_strings", "not a list of strings")
INVALID = Message("intake.watchlist.invalid", "not valid FollowTheMoney: {error}")
NO_NAME = Message("intake.watchlist.no_name", "no name to screen")


@dataclass(frozen=True, slots=True)
class WatchlistEntity:
    """What screening needs of a listed entity; `body` is the entity as FollowTheMoney serialises it."""

    id: str
    schema: str
    caption: str
    names: tuple[str, ...]
    weak_names: tuple[str, ...]
    countries: tuple[str, ...]
    body: dict[str, Any]

    @property
    def all_names(self) -> tuple[str, ...]:
        return self.names + self.weak_names


def _values(proxy: EntityProxy, props: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for prop in props:
        for value in proxy.get(prop, quiet=True):
            text = value.strip()
            if text:
                seen.setdefault(text, None)
    return tuple(seen)


def entity_from_proxy(proxy: EntityProxy) -> WatchlistEntity | None:
    """The screening view of a proxy, or None if its schema is not one a counterparty can be."""
    if not proxy.schema.is_a(SCREENED_SCHEMA) or proxy.id is None:
        return None
    names = _values(proxy, STRONG_NAME_PROPS)
    weak = tuple(n for n in _values(proxy, WEAK_NAME_PROPS) if n not in names)
    return WatchlistEntity(
        id=proxy.id,
        schema=proxy.schema.name,
        caption=proxy.caption,
        names=names,
        weak_names=weak,
        countries=_values(proxy, COUNTRY_PROPS),
        body=proxy.to_dict(),
    )


def parse_entity(line: str | bytes, *, document: str, index: int) -> WatchlistEntity | None:
    """One JSON line to an entity; None for schemata screening ignores (vessels, addresses, sanctions...).

    `cleaned=False` makes followthemoney re-validate every value, as its docs ask for untrusted input.
    """

    def refused(field: str, reason: Said) -> IntakeError:
        return IntakeError(document=document, index=index, field=field, reason=reason, unit="line")

    reason = too_long(line)
    if reason:
        raise refused("", reason)
    try:
        data = read_json(line)
    except NotJSON as exc:
        raise refused(exc.field or "", exc.said) from None
    if not isinstance(data, dict):
        raise refused("", NOT_OBJECT())
    if not isinstance(data.get("id"), str) or not data["id"].strip():
        raise refused("id", NO_ID())
    schema = data.get("schema")
    if not isinstance(schema, str) or model.get(schema) is None:
        raise refused("schema", UNKNOWN_SCHEMA(value=schema))
    properties = data.get("properties", {})
    if not isinstance(properties, dict):
        raise refused("properties", PROPERTIES())
    for prop, values in properties.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise refused(f"properties.{prop}", NOT_STRINGS())
    try:
        proxy = model.get_proxy(data, cleaned=False)
    except InvalidData as exc:
        raise refused("schema", INVALID(error=str(exc))) from exc
    entity = entity_from_proxy(proxy)
    if entity is not None and not entity.names:
        raise refused("properties.name", NO_NAME())
    return entity


def read_entities(lines: Iterable[str | bytes], *, document: str = "watchlist") -> Iterator[WatchlistEntity]:
    """Screenable entities of a JSON Lines stream; blank lines are skipped, line numbers are 1-based."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        entity = parse_entity(line, document=document, index=number)
        if entity is not None:
            yield entity
