"""DNS names: the zone's origin, record names relative to it, target host names, IDNA.

Pure functions, no database, shared by the record rules (``dns_rules``) and the zone
rules (``dns_zone_rules``).

Record names are relative to the zone: "@" (or "") is the apex, a full name inside the
zone ("www.example.com" or "www.example.com.") is made relative. Target host names: "@"
is the zone apex; a single label without a dot ("mail") is relative to the zone
(mail.example.com); anything with a dot is a full name ("mx.provider.net", a trailing
dot is optional). Unicode (IDN) labels become punycode; stored names are lower-case ASCII.

Every public function raises the panel's own errors only (``ValidationError``, and
``Unreadable`` for data dnspython or IDNA cannot parse), never a library's.
"""

from __future__ import annotations

import functools
import re

import dns.exception
import dns.name
import idna

from panel_app.services.validation import Unreadable, ValidationError, clean_text

APEX = "@"
MAX_LABEL_BYTES = 63
MAX_NAME_BYTES = 253  # the full name, without the final dot
MAX_INPUT_CHARS = 1000  # raw name or target text, before any work is done on it

_LABEL_RE = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$")
# IDNA label separators: the full stop and its ideographic / full-width forms.
_SEPARATORS_RE = re.compile("[.\u3002\uff0e\uff61]")


def own_errors(fn):
    """What dnspython or IDNA raise on data they cannot parse leaves as ``Unreadable``."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValidationError:
            raise
        except (dns.exception.DNSException, ValueError):  # UnicodeError is a ValueError
            raise Unreadable("value", "dns.error.value_invalid") from None

    return wrapper


@own_errors
def zone_origin(domain_name: str | dns.name.Name) -> dns.name.Name:
    """The zone's absolute name (``Domain.name`` is stored as ASCII)."""
    if isinstance(domain_name, dns.name.Name):
        return domain_name
    return dns.name.from_text(domain_name.strip().rstrip(".").lower() + ".")


def _zone_text(origin: dns.name.Name) -> str:
    return origin.to_text(omit_final_dot=True).lower()


def _idna_label(label: str, field: str) -> str:
    try:
        encoded = idna.encode(label, uts46=True).decode("ascii")
    except (UnicodeError, ValueError):  # idna.IDNAError is a UnicodeError
        raise ValidationError(field, "dns.error.idn_invalid") from None
    if not encoded or "." in encoded:
        raise ValidationError(field, "dns.error.idn_invalid")
    return encoded


def host_labels(text: str, field: str, *, allow_wildcard: bool, allow_underscore: bool) -> list[str]:
    """Split a name into lower-case ASCII labels, converting IDN labels to punycode."""
    labels: list[str] = []
    for index, label in enumerate(_SEPARATORS_RE.split(text)):
        if label == "":
            raise ValidationError(field, "dns.error.label_empty")
        if label == "*":
            if index != 0 or not allow_wildcard:
                raise ValidationError(field, "dns.error.wildcard_position")
            labels.append(label)
            continue
        label = label.lower() if label.isascii() else _idna_label(label, field)
        if len(label) > MAX_LABEL_BYTES:
            raise ValidationError(field, "dns.error.label_too_long", max=MAX_LABEL_BYTES)
        if not _LABEL_RE.match(label):
            raise ValidationError(field, "dns.error.label_invalid")
        if "_" in label and not allow_underscore:
            raise ValidationError(field, "dns.error.hostname_invalid")
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (UnicodeError, ValueError):
                raise ValidationError(field, "dns.error.idn_invalid") from None
        labels.append(label)
    return labels


@own_errors
def normalize_name(raw: object, origin: str | dns.name.Name, *, field: str = "name") -> str:
    """The record name relative to the zone: "@" for the apex, else lower-case ASCII."""
    origin = zone_origin(origin)
    text = clean_text(raw, field, max_length=MAX_INPUT_CHARS)
    if text in ("", APEX):
        return APEX
    zone = _zone_text(origin)
    absolute = text.endswith(".")
    body = text[:-1] if absolute else text
    if not body:
        raise ValidationError(field, "dns.error.label_empty")
    joined = ".".join(host_labels(body, field, allow_wildcard=True, allow_underscore=True))
    if joined == zone:
        return APEX
    if joined.endswith("." + zone):
        relative = joined[: -len(zone) - 1]
    elif absolute:
        raise ValidationError(field, "dns.error.name_outside_zone", zone=zone)
    else:
        relative = joined
    if len(relative) + 1 + len(zone) > MAX_NAME_BYTES:
        raise ValidationError(field, "dns.error.name_too_long", max=MAX_NAME_BYTES)
    return relative


@own_errors
def absolute_name(name: str, origin: str | dns.name.Name) -> dns.name.Name:
    origin = zone_origin(origin)
    if name == APEX:
        return origin
    return dns.name.from_text(name, origin=origin)


@own_errors
def display_name(name: str, origin: str | dns.name.Name) -> str:
    """The full name for people: Unicode where a label is punycode."""
    full = absolute_name(name, origin)
    try:
        return full.to_unicode(omit_final_dot=True)
    except (UnicodeError, ValueError, dns.exception.DNSException):
        return full.to_text(omit_final_dot=True)


def relative_name(target: dns.name.Name, origin: dns.name.Name) -> str | None:
    """The relative name of a target inside the zone, or None when outside."""
    if not target.is_subdomain(origin):
        return None
    if target == origin:
        return APEX
    return target.relativize(origin).to_text().lower()


def normalize_target(raw: object, origin: dns.name.Name, *, allow_underscore: bool) -> dns.name.Name:
    """A target host name (CNAME, NS, MX and SRV values) as an absolute name."""
    text = clean_text(raw, "value", max_length=MAX_INPUT_CHARS, required=True)
    if text == APEX:
        return origin
    if text == ".":
        raise ValidationError("value", "dns.error.target_root")
    absolute = text.endswith(".")
    body = text[:-1] if absolute else text
    if not body:
        raise ValidationError("value", "dns.error.label_empty")
    labels = host_labels(body, "value", allow_wildcard=False, allow_underscore=allow_underscore)
    if not absolute and len(labels) == 1:
        labels.append(_zone_text(origin))
    full = ".".join(labels)
    if len(full) > MAX_NAME_BYTES:
        raise ValidationError("value", "dns.error.name_too_long", max=MAX_NAME_BYTES)
    return dns.name.from_text(full + ".")


def target_for_form(target: dns.name.Name, origin: dns.name.Name) -> str:
    """How a stored target reads in the form, so that validating it again gives it back."""
    if target == origin:
        return APEX
    text = target.to_text(omit_final_dot=True)
    return text if "." in text else text + "."

