"""DNS record rules: turn what a customer typed into one stored record, or say why not.

Pure functions, no database. The zone service (``services.dns_zone``) calls
``validate_record`` for the record being changed, then ``dns_zone_rules.check_zone``
for the whole zone after the change, before anything is flushed. Names and target
host names are read by ``dns_names``.

What the form sends (``RecordInput``), one field per form field, so an error's
``field`` names the input that shows it:

=======  ==========================================================================
name     relative to the zone: "@" or "" for the apex, "www", "*.dev", "_sip._tcp".
         A full name inside the zone ("www.example.com" or "www.example.com.") is
         accepted and made relative. Unicode (IDN) labels become punycode.
rtype    A, AAAA, CNAME, MX, TXT, SRV, CAA, NS
ttl      seconds, 60..86400
value    A: IPv4 address. AAAA: IPv6 address. CNAME/NS/MX/SRV: target host name.
         TXT: the plain text (split into 255-byte strings and quoted for you; a value
         typed already in quoted form, '"v=DKIM1; " "p=..."', is joined first).
         CAA: the property value without quotes ("letsencrypt.org",
         "mailto:security@example.com").
priority MX and SRV, 0..65535
weight   SRV, 0..65535
port     SRV, 0..65535
flags    CAA, 0..255 (empty means 0)
tag      CAA: issue, issuewild or iodef
=======  ==========================================================================

Target host names: "@" is the zone apex; a single label without a dot ("mail") is
relative to the zone (mail.example.com); anything with a dot is a full name
("mx.provider.net", a trailing dot is optional).

What is stored (``CleanRecord``): the relative name ("@" or lower-case ASCII), the
type, the TTL and the rdata in presentation format with absolute names, exactly as
dnspython prints it ("10 mail.example.com.", '"v=spf1 -all"').

Every public function raises the panel's own errors only (``ValidationError``, and
``Unreadable`` for data dnspython or IDNA cannot parse), never a library's.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
from dns.rdtypes.ANY.CAA import CAA
from dns.rdtypes.ANY.TXT import TXT

from panel_app.services.dns_names import (
    APEX,
    MAX_INPUT_CHARS,
    MAX_NAME_BYTES,
    host_labels,
    normalize_name,
    normalize_target,
    own_errors,
    target_for_form,
    zone_origin,
    absolute_name,
)
from panel_app.services.validation import ValidationError, clean_text, normalize_email

RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "SRV", "CAA", "NS")
TTL_MIN = 60
TTL_MAX = 86400
DEFAULT_TTL = 3600
UINT16_MAX = 65535
CAA_FLAGS_MAX = 255
CAA_TAGS = ("issue", "issuewild", "iodef")
CAA_VALUE_MAX = 255
TXT_STRING_BYTES = 255
TXT_MAX_BYTES = 4000

_IN = dns.rdataclass.IN
_NUMBER_RE = re.compile(r"^[0-9]{1,10}$")
_QUOTED_STRINGS_RE = re.compile(r'^"(?:[^"\\]|\\.)*"(?:\s+"(?:[^"\\]|\\.)*")*$', re.DOTALL)
_CAA_PARAMETER_RE = re.compile(r"^[A-Za-z0-9]+=[\x21-\x3a\x3c-\x7e]*$")


@dataclass(frozen=True)
class RecordInput:
    """One record as the form sends it (see the module docstring for each field)."""

    name: str = APEX
    rtype: str = "A"
    ttl: int | str = DEFAULT_TTL
    value: str = ""
    priority: int | str | None = None
    weight: int | str | None = None
    port: int | str | None = None
    flags: int | str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class CleanRecord:
    """A validated record, in exactly the form it is stored in ``DnsRecord``."""

    name: str
    rtype: str
    ttl: int
    value: str


# --- numbers and simple fields ----------------------------------------------------


def _whole_number(raw: object, field: str, minimum: int, maximum: int, *, default: int | None = None) -> int:
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        if default is not None:
            return default
        raise ValidationError(field, "validation.required")
    if isinstance(raw, bool):
        raise ValidationError(field, "dns.error.number_range", min=minimum, max=maximum)
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, float) and raw.is_integer():  # JSON sends 300.0 sometimes
        number = int(raw)
    elif isinstance(raw, str) and _NUMBER_RE.match(raw.strip()):
        number = int(raw.strip())
    else:
        raise ValidationError(field, "dns.error.number_range", min=minimum, max=maximum)
    if not minimum <= number <= maximum:
        raise ValidationError(field, "dns.error.number_range", min=minimum, max=maximum)
    return number


def _rtype(raw: object) -> str:
    if not isinstance(raw, str) or raw.strip().upper() not in RECORD_TYPES:
        raise ValidationError("rtype", "dns.error.type_unsupported")
    return raw.strip().upper()


def _has_control(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


# --- values per type ----------------------------------------------------------------


def _ipv4(raw: object) -> str:
    text = clean_text(raw, "value", max_length=100, required=True)
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        pass
    if ":" in text and "%" not in text:
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            pass
        else:
            raise ValidationError("value", "dns.error.ipv6_in_a")
    raise ValidationError("value", "dns.error.ipv4_invalid")


def _ipv6(raw: object) -> str:
    text = clean_text(raw, "value", max_length=100, required=True)
    if "%" not in text:  # a scope id ("fe80::1%eth0") means nothing in DNS
        try:
            return str(ipaddress.IPv6Address(text))
        except ValueError:
            pass
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        raise ValidationError("value", "dns.error.ipv6_invalid") from None
    raise ValidationError("value", "dns.error.ipv4_in_aaaa")


def _txt_plain_text(raw: object) -> str:
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise ValidationError("value", "validation.invalid")
    text = raw.strip()
    if len(text) > TXT_MAX_BYTES * 5:  # cheap bound before any parsing
        raise ValidationError("value", "dns.error.txt_too_long", max=TXT_MAX_BYTES)
    if _QUOTED_STRINGS_RE.match(text):
        # Pasted in zone-file form: join the strings (escapes as in a zone file).
        try:
            strings = dns.rdata.from_text(_IN, dns.rdatatype.TXT, text).strings
            text = b"".join(strings).decode("utf-8")
        except (UnicodeError, ValueError, dns.exception.DNSException):
            raise ValidationError("value", "dns.error.txt_invalid") from None
    if not text:
        raise ValidationError("value", "validation.required")
    if _has_control(text):
        raise ValidationError("value", "dns.error.txt_invalid")
    return text


def _split_utf8(text: str, size: int) -> list[bytes]:
    """Split into strings of at most ``size`` bytes, never inside a character."""
    chunks: list[bytes] = []
    current = bytearray()
    for char in text:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > size:
            chunks.append(bytes(current))
            current = bytearray()
        current += encoded
    if current:
        chunks.append(bytes(current))
    return chunks


def _txt(raw: object) -> str:
    text = _txt_plain_text(raw)
    try:
        size = len(text.encode("utf-8"))
    except UnicodeError:  # lone surrogates
        raise ValidationError("value", "dns.error.txt_invalid") from None
    if size > TXT_MAX_BYTES:
        raise ValidationError("value", "dns.error.txt_too_long", max=TXT_MAX_BYTES)
    return TXT(_IN, dns.rdatatype.TXT, _split_utf8(text, TXT_STRING_BYTES)).to_text()


def _caa_issuer(text: str) -> str:
    domain_part, semicolon, parameter_part = text.partition(";")
    domain_part = domain_part.strip()
    if domain_part.endswith(".") and domain_part != ".":
        domain_part = domain_part[:-1]
    if domain_part:
        if len(domain_part) > MAX_NAME_BYTES:
            raise ValidationError("value", "dns.error.caa_issuer_invalid")
        try:
            labels = host_labels(domain_part, "value", allow_wildcard=False, allow_underscore=False)
        except ValidationError:
            raise ValidationError("value", "dns.error.caa_issuer_invalid") from None
        if len(labels) < 2:
            raise ValidationError("value", "dns.error.caa_issuer_invalid")
        domain_part = ".".join(labels)
    elif not semicolon:
        raise ValidationError("value", "validation.required")
    parameters = [p.strip() for p in parameter_part.split(";")] if parameter_part.strip() else []
    if any(not _CAA_PARAMETER_RE.match(p) for p in parameters):
        raise ValidationError("value", "dns.error.caa_parameter_invalid")
    if not semicolon:
        return domain_part
    joined = "; ".join(parameters)
    return f"{domain_part}; {joined}".strip() if domain_part else (f"; {joined}" if joined else ";")


def _caa_iodef(text: str) -> str:
    if text.lower().startswith("mailto:"):
        try:
            return "mailto:" + normalize_email(text[len("mailto:"):], "value")
        except ValidationError:
            raise ValidationError("value", "dns.error.caa_iodef_invalid") from None
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or any(not 0x21 <= ord(c) <= 0x7E for c in text)
    ):
        raise ValidationError("value", "dns.error.caa_iodef_invalid")
    return text


def _caa(record: RecordInput) -> str:
    flags = _whole_number(record.flags, "flags", 0, CAA_FLAGS_MAX, default=0)
    if not isinstance(record.tag, str) or record.tag.strip().lower() not in CAA_TAGS:
        raise ValidationError("tag", "dns.error.caa_tag_invalid")
    tag = record.tag.strip().lower()
    text = clean_text(record.value, "value", max_length=MAX_INPUT_CHARS, required=True)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].strip()
    if len(text) > CAA_VALUE_MAX:
        raise ValidationError("value", "validation.too_long", max=CAA_VALUE_MAX)
    if '"' in text or "\\" in text or not text.isascii():
        raise ValidationError("value", "dns.error.caa_value_invalid")
    value = _caa_iodef(text) if tag == "iodef" else _caa_issuer(text)
    if len(value) > CAA_VALUE_MAX:
        raise ValidationError("value", "validation.too_long", max=CAA_VALUE_MAX)
    return CAA(_IN, dns.rdatatype.CAA, flags, tag.encode(), value.encode()).to_text()


def parse_rdata(rtype: str, text: str, origin: dns.name.Name, field: str = "value") -> dns.rdata.Rdata:
    """dnspython's own check of the presentation form (absolute names kept)."""
    try:
        return _parsed(rtype, text, origin)
    except (dns.exception.DNSException, ValueError, UnicodeError, TypeError):
        raise ValidationError(field, "dns.error.value_invalid") from None


@functools.lru_cache(maxsize=4096)
def _parsed(rtype: str, text: str, origin: dns.name.Name) -> dns.rdata.Rdata:
    """A value parsed once per worker: a zone's records are parsed again at every check of
    the zone (each save checks the whole zone, each page load proves every stored record),
    and dnspython's parser is most of that work. Its rdata objects are immutable; what
    fails to parse is not kept (it raises)."""
    return dns.rdata.from_text(_IN, dns.rdatatype.from_text(rtype), text, origin=origin, relativize=False)


@own_errors
def validate_record(record: RecordInput, origin: str | dns.name.Name) -> CleanRecord:
    """Validate one record on its own; raise ``ValidationError(field, key, **params)``."""
    origin = zone_origin(origin)
    if not isinstance(record, RecordInput):
        raise ValidationError("rtype", "validation.invalid")
    rtype = _rtype(record.rtype)
    name = normalize_name(record.name, origin)
    if rtype == "CNAME" and name == APEX:
        raise ValidationError("name", "dns.error.cname_at_apex")
    if rtype == "NS" and name.split(".")[0] == "*":
        raise ValidationError("name", "dns.error.ns_wildcard")
    if rtype == "SRV":
        labels = name.split(".")
        if name == APEX or len(labels) < 2 or not all(
            len(label) > 1 and label.startswith("_") for label in labels[:2]
        ):
            raise ValidationError("name", "dns.error.srv_name")
    ttl = _whole_number(record.ttl, "ttl", TTL_MIN, TTL_MAX)

    if rtype == "A":
        text = _ipv4(record.value)
    elif rtype == "AAAA":
        text = _ipv6(record.value)
    elif rtype == "CNAME":
        target = normalize_target(record.value, origin, allow_underscore=True)
        if target == absolute_name(name, origin):
            raise ValidationError("value", "dns.error.cname_self")
        text = target.to_text()
    elif rtype == "NS":
        text = normalize_target(record.value, origin, allow_underscore=False).to_text()
    elif rtype == "MX":
        priority = _whole_number(record.priority, "priority", 0, UINT16_MAX)
        target = normalize_target(record.value, origin, allow_underscore=False)
        text = f"{priority} {target.to_text()}"
    elif rtype == "SRV":
        priority = _whole_number(record.priority, "priority", 0, UINT16_MAX)
        weight = _whole_number(record.weight, "weight", 0, UINT16_MAX)
        port = _whole_number(record.port, "port", 0, UINT16_MAX)
        target = normalize_target(record.value, origin, allow_underscore=False)
        text = f"{priority} {weight} {port} {target.to_text()}"
    elif rtype == "TXT":
        text = _txt(record.value)
    else:  # CAA
        text = _caa(record)
    return CleanRecord(name=name, rtype=rtype, ttl=ttl, value=parse_rdata(rtype, text, origin).to_text())


# --- back from storage ---------------------------------------------------------------


@own_errors
def record_to_input(record: CleanRecord, origin: str | dns.name.Name) -> RecordInput:
    """The form fields for a stored record (the edit form starts from these)."""
    origin = zone_origin(origin)
    rdata = parse_rdata(record.rtype, record.value, origin)
    base = {"name": record.name, "rtype": record.rtype, "ttl": record.ttl}
    if record.rtype in ("A", "AAAA"):
        return RecordInput(**base, value=rdata.address)
    if record.rtype in ("CNAME", "NS"):
        return RecordInput(**base, value=target_for_form(rdata.target, origin))
    if record.rtype == "MX":
        return RecordInput(**base, value=target_for_form(rdata.exchange, origin), priority=rdata.preference)
    if record.rtype == "SRV":
        return RecordInput(**base, value=target_for_form(rdata.target, origin), priority=rdata.priority,
                           weight=rdata.weight, port=rdata.port)
    if record.rtype == "TXT":
        plain = b"".join(rdata.strings).decode("utf-8", errors="replace")
        try:
            same = _txt(plain) == record.value
        except ValidationError:
            same = False
        # Text that would be read differently when typed again (outer spaces, a
        # quoted look) is offered in quoted form, which reads back exactly.
        return RecordInput(**base, value=plain if same else record.value)
    if record.rtype == "CAA":
        return RecordInput(**base, value=rdata.value.decode("ascii", errors="replace"), flags=rdata.flags,
                           tag=rdata.tag.decode("ascii", errors="replace"))
    raise ValidationError("rtype", "dns.error.type_unsupported")


@own_errors
def revalidate(record: CleanRecord, origin: str | dns.name.Name) -> CleanRecord:
    """Prove a stored record is valid and canonical: read it back as form input,
    validate that, and expect the very same record."""
    again = validate_record(record_to_input(record, origin), origin)
    if again != record:
        raise ValidationError("value", "dns.error.value_invalid")
    return again
