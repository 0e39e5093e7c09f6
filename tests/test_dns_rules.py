"""DNS record rules (no database): each rule with explicit cases, then generated input."""

from __future__ import annotations

import re

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panel_app.i18n import CATALOGS
from panel_app.services import dns_names, dns_rules, dns_zone_rules
from panel_app.services.dns_names import normalize_name
from panel_app.services.dns_rules import CleanRecord, RecordInput, validate_record
from panel_app.services.dns_zone_rules import check_zone
from panel_app.services.validation import ValidationError

ZONE = "example.com"


def refused(record: RecordInput, zone: str = ZONE) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        validate_record(record, zone)
    return info.value.field, info.value.message_key


def ok(record: RecordInput, zone: str = ZONE) -> CleanRecord:
    clean = validate_record(record, zone)
    assert dns_rules.revalidate(clean, zone) == clean  # what we store reads back the same
    return clean


def name_error(raw) -> str:
    with pytest.raises(ValidationError) as info:
        normalize_name(raw, ZONE)
    assert info.value.field == "name"
    return info.value.message_key


# --- names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("@", "@"),
        ("", "@"),
        ("  www  ", "www"),
        ("WWW", "www"),
        ("www.example.com", "www"),
        ("www.example.com.", "www"),
        ("example.com", "@"),
        ("EXAMPLE.COM.", "@"),
        ("_dmarc", "_dmarc"),
        ("selector1._domainkey", "selector1._domainkey"),
        ("*", "*"),
        ("*.dev", "*.dev"),
        ("*.example.com", "*"),
        ("bücher", "xn--bcher-kva"),
        ("Bücher.Example.com", "xn--bcher-kva"),
        ("ａｂｃ", "abc"),  # full-width letters map to ASCII (UTS 46)
        ("shop。dev", "shop.dev"),  # ideographic full stop separates labels
        ("xn--bcher-kva", "xn--bcher-kva"),
        ("a" * 63, "a" * 63),
    ],
)
def test_names_are_normalised(typed, stored):
    assert normalize_name(typed, ZONE) == stored


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("a..b", "dns.error.label_empty"),
        (".www", "dns.error.label_empty"),
        ("www..", "dns.error.label_empty"),
        ("a" * 64, "dns.error.label_too_long"),
        ("-www", "dns.error.label_invalid"),
        ("www-", "dns.error.label_invalid"),
        ("w w", "dns.error.label_invalid"),
        ("w@w", "dns.error.label_invalid"),
        ("a*b", "dns.error.label_invalid"),
        ("dev.*", "dns.error.wildcard_position"),
        ("*.*", "dns.error.wildcard_position"),
        ("www.other.org.", "dns.error.name_outside_zone"),
        ("xn--zz", "dns.error.idn_invalid"),
        ("😀", "dns.error.idn_invalid"),
        ("a\u200db", "dns.error.idn_invalid"),
        ("line\nbreak", "validation.invalid"),
        (12, "validation.invalid"),
        (["www"], "validation.invalid"),
        ("a" * 1001, "validation.too_long"),
    ],
)
def test_bad_names_are_refused(typed, key):
    assert name_error(typed) == key


def test_full_name_is_limited_to_253_bytes():
    # "example.com" has 11 characters, so a relative name may have 253 - 12 = 241
    longest = ".".join(["a" * 63] * 3 + ["b" * 49])
    assert len(longest) == 241
    assert normalize_name(longest, ZONE) == longest
    assert name_error(longest + "b") == "dns.error.name_too_long"
    assert name_error(".".join(["a" * 63] * 4)) == "dns.error.name_too_long"


# --- record types and fields -----------------------------------------------------------


@pytest.mark.parametrize("rtype", ["SOA", "PTR", "ANY", "", None, 1])
def test_unsupported_types_are_refused(rtype):
    assert refused(RecordInput("www", rtype, 3600, "1.2.3.4")) == ("rtype", "dns.error.type_unsupported")


def test_type_is_case_insensitive():
    assert ok(RecordInput("www", " a ", 3600, "192.0.2.1")).rtype == "A"


@pytest.mark.parametrize("ttl", [60, 86400, "300", " 3600 ", 300.0])
def test_ttl_in_range_is_accepted(ttl):
    assert ok(RecordInput("www", "A", ttl, "192.0.2.1")).ttl == int(float(str(ttl).strip()))


@pytest.mark.parametrize("ttl", [59, 0, -1, 86401, 10**12, "abc", "1e3", "٣٠٠", True, 300.5, float("nan")])
def test_ttl_out_of_range_is_refused(ttl):
    assert refused(RecordInput("www", "A", ttl, "192.0.2.1")) == ("ttl", "dns.error.number_range")


@pytest.mark.parametrize("ttl", [None, "", "  "])
def test_ttl_is_required(ttl):
    assert refused(RecordInput("www", "A", ttl, "192.0.2.1")) == ("ttl", "validation.required")


def test_a_record():
    assert ok(RecordInput("www", "A", 3600, " 192.0.2.1 ")).value == "192.0.2.1"
    assert refused(RecordInput("www", "A", 3600, "256.1.1.1")) == ("value", "dns.error.ipv4_invalid")
    assert refused(RecordInput("www", "A", 3600, "01.2.3.4")) == ("value", "dns.error.ipv4_invalid")
    assert refused(RecordInput("www", "A", 3600, "192.0.2")) == ("value", "dns.error.ipv4_invalid")
    assert refused(RecordInput("www", "A", 3600, "2001:db8::1")) == ("value", "dns.error.ipv6_in_a")
    assert refused(RecordInput("www", "A", 3600, "")) == ("value", "validation.required")


def test_aaaa_record():
    assert ok(RecordInput("www", "AAAA", 3600, "2001:DB8:0:0::1")).value == "2001:db8::1"
    assert refused(RecordInput("www", "AAAA", 3600, "192.0.2.1")) == ("value", "dns.error.ipv4_in_aaaa")
    assert refused(RecordInput("www", "AAAA", 3600, "fe80::1%eth0")) == ("value", "dns.error.ipv6_invalid")
    assert refused(RecordInput("www", "AAAA", 3600, "2001:db8::g")) == ("value", "dns.error.ipv6_invalid")


def test_cname_record():
    assert ok(RecordInput("www", "CNAME", 3600, "@")).value == "example.com."
    assert ok(RecordInput("www", "CNAME", 3600, "host")).value == "host.example.com."
    assert ok(RecordInput("www", "CNAME", 3600, "Shop.Provider.net")).value == "shop.provider.net."
    assert ok(RecordInput("www", "CNAME", 3600, "shop.provider.net.")).value == "shop.provider.net."
    # DKIM delegation points at underscore names
    assert ok(RecordInput("s1._domainkey", "CNAME", 3600, "s1._domainkey.mailer.net")).value == (
        "s1._domainkey.mailer.net.")
    assert refused(RecordInput("@", "CNAME", 3600, "other.net")) == ("name", "dns.error.cname_at_apex")
    assert refused(RecordInput("example.com.", "CNAME", 3600, "other.net")) == ("name", "dns.error.cname_at_apex")
    assert refused(RecordInput("www", "CNAME", 3600, "www.example.com")) == ("value", "dns.error.cname_self")
    assert refused(RecordInput("www", "CNAME", 3600, ".")) == ("value", "dns.error.target_root")
    assert refused(RecordInput("www", "CNAME", 3600, "")) == ("value", "validation.required")
    assert refused(RecordInput("www", "CNAME", 3600, "a..b")) == ("value", "dns.error.label_empty")
    assert refused(RecordInput("www", "CNAME", 3600, "*.b.net")) == ("value", "dns.error.wildcard_position")


def test_mx_record():
    assert ok(RecordInput("@", "MX", 3600, "mail", priority=10)).value == "10 mail.example.com."
    assert ok(RecordInput("@", "MX", 3600, "mx.provider.net", priority="0")).value == "0 mx.provider.net."
    assert ok(RecordInput("@", "MX", 3600, "mx.provider.net", priority=65535)).value == "65535 mx.provider.net."
    assert refused(RecordInput("@", "MX", 3600, "mail")) == ("priority", "validation.required")
    assert refused(RecordInput("@", "MX", 3600, "mail", priority=65536)) == ("priority", "dns.error.number_range")
    assert refused(RecordInput("@", "MX", 3600, "mail", priority=-1)) == ("priority", "dns.error.number_range")
    assert refused(RecordInput("@", "MX", 3600, "_mail.x.net", priority=1)) == ("value", "dns.error.hostname_invalid")


def test_mx_target_in_idn_becomes_punycode():
    assert ok(RecordInput("@", "MX", 3600, "mail.bücher.de", priority=1)).value == "1 mail.xn--bcher-kva.de."


def test_srv_record():
    clean = ok(RecordInput("_sip._tcp", "SRV", 3600, "sip.provider.net", priority=10, weight=5, port=5060))
    assert clean.value == "10 5 5060 sip.provider.net."
    assert ok(RecordInput("_xmpp._tcp.chat", "SRV", 3600, "@", priority=0, weight=0, port=0)).value == (
        "0 0 0 example.com.")
    for name in ("sip._tcp", "_sip.tcp", "@", "_sip", "_._tcp"):
        assert refused(RecordInput(name, "SRV", 3600, "x.net", priority=1, weight=1, port=1)) == (
            "name", "dns.error.srv_name"), name
    for field in ("priority", "weight", "port"):
        values = {"priority": 1, "weight": 1, "port": 1, field: 65536}
        assert refused(RecordInput("_sip._tcp", "SRV", 3600, "x.net", **values)) == (field, "dns.error.number_range")
        values[field] = None
        assert refused(RecordInput("_sip._tcp", "SRV", 3600, "x.net", **values)) == (field, "validation.required")


def test_ns_record():
    assert ok(RecordInput("sub", "NS", 3600, "ns1.other.net")).value == "ns1.other.net."
    assert refused(RecordInput("*.sub", "NS", 3600, "ns1.other.net")) == ("name", "dns.error.ns_wildcard")
    assert refused(RecordInput("sub", "NS", 3600, "ns_1.other.net")) == ("value", "dns.error.hostname_invalid")


def _txt_strings(value: str) -> list[bytes]:
    return list(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, value).strings)


def test_txt_plain_text_is_quoted():
    assert ok(RecordInput("@", "TXT", 3600, "v=spf1 include:_spf.example.net -all")).value == (
        '"v=spf1 include:_spf.example.net -all"')


def test_txt_quotes_and_backslashes_are_escaped():
    clean = ok(RecordInput("@", "TXT", 3600, 'say "hi" \\ bye'))
    assert _txt_strings(clean.value) == [b'say "hi" \\ bye']


def test_long_txt_is_split_into_255_byte_strings():
    text = "p=" + "A" * 700
    clean = ok(RecordInput("sel._domainkey", "TXT", 3600, text))
    strings = _txt_strings(clean.value)
    assert [len(s) for s in strings] == [255, 255, 192]
    assert b"".join(strings).decode() == text


def test_txt_split_never_cuts_a_character():
    text = "é" * 200  # 400 bytes, 2 per character
    strings = _txt_strings(ok(RecordInput("@", "TXT", 3600, text)).value)
    assert all(len(s) <= 255 for s in strings)
    assert [s.decode("utf-8") for s in strings] == ["é" * 127, "é" * 73]


def test_txt_in_zone_file_form_is_joined():
    clean = ok(RecordInput("@", "TXT", 3600, '"v=DKIM1; k=rsa; " "p=MIIB"'))
    assert b"".join(_txt_strings(clean.value)) == b"v=DKIM1; k=rsa; p=MIIB"


def test_txt_limits():
    assert ok(RecordInput("@", "TXT", 3600, "x" * dns_rules.TXT_MAX_BYTES))
    assert refused(RecordInput("@", "TXT", 3600, "x" * (dns_rules.TXT_MAX_BYTES + 1))) == (
        "value", "dns.error.txt_too_long")
    assert refused(RecordInput("@", "TXT", 3600, "€" * 1400)) == ("value", "dns.error.txt_too_long")  # 4200 bytes
    assert refused(RecordInput("@", "TXT", 3600, "   ")) == ("value", "validation.required")
    assert refused(RecordInput("@", "TXT", 3600, '""')) == ("value", "validation.required")
    assert refused(RecordInput("@", "TXT", 3600, "a\nb")) == ("value", "dns.error.txt_invalid")
    assert refused(RecordInput("@", "TXT", 3600, '"a\\010b"')) == ("value", "dns.error.txt_invalid")
    assert refused(RecordInput("@", "TXT", 3600, "\ud800")) == ("value", "dns.error.txt_invalid")
    assert refused(RecordInput("@", "TXT", 3600, 42)) == ("value", "validation.invalid")


def test_txt_text_that_looks_quoted_survives_editing():
    # The form shows stored text so that saving it unchanged stores the same record.
    for typed in ('"\\"quoted\\""', '" padded "'):
        clean = ok(RecordInput("@", "TXT", 3600, typed))
        form = dns_rules.record_to_input(clean, ZONE)
        assert validate_record(form, ZONE) == clean


def test_caa_record():
    assert ok(RecordInput("@", "CAA", 3600, "letsencrypt.org", tag="issue")).value == '0 issue "letsencrypt.org"'
    assert ok(RecordInput("@", "CAA", 3600, '"LetsEncrypt.org"', tag="ISSUE", flags="128")).value == (
        '128 issue "letsencrypt.org"')
    assert ok(RecordInput("@", "CAA", 3600, ";", tag="issuewild")).value == '0 issuewild ";"'
    assert ok(RecordInput("@", "CAA", 3600, "ca.net; account=123", tag="issue")).value == (
        '0 issue "ca.net; account=123"')
    assert ok(RecordInput("@", "CAA", 3600, "mailto:Security@Example.com", tag="iodef")).value == (
        '0 iodef "mailto:security@example.com"')
    assert ok(RecordInput("@", "CAA", 3600, "https://report.example.net/caa", tag="iodef")).value == (
        '0 iodef "https://report.example.net/caa"')
    assert refused(RecordInput("@", "CAA", 3600, "ca.net", tag="issue", flags=256)) == ("flags", "dns.error.number_range")
    assert refused(RecordInput("@", "CAA", 3600, "ca.net", tag="issue", flags=-1)) == ("flags", "dns.error.number_range")
    assert refused(RecordInput("@", "CAA", 3600, "ca.net", tag="contactemail")) == ("tag", "dns.error.caa_tag_invalid")
    assert refused(RecordInput("@", "CAA", 3600, "ca.net", tag=None)) == ("tag", "dns.error.caa_tag_invalid")
    assert refused(RecordInput("@", "CAA", 3600, "ftp://x.net", tag="iodef")) == ("value", "dns.error.caa_iodef_invalid")
    assert refused(RecordInput("@", "CAA", 3600, "mailto:nobody", tag="iodef")) == ("value", "dns.error.caa_iodef_invalid")
    assert refused(RecordInput("@", "CAA", 3600, "ca.net; bad param", tag="issue")) == (
        "value", "dns.error.caa_parameter_invalid")
    assert refused(RecordInput("@", "CAA", 3600, "not a domain", tag="issue")) == ("value", "dns.error.caa_issuer_invalid")
    assert refused(RecordInput("@", "CAA", 3600, 'ca"net', tag="issue")) == ("value", "dns.error.caa_value_invalid")
    assert refused(RecordInput("@", "CAA", 3600, "a" * 300 + ".net", tag="issue")) == ("value", "validation.too_long")


def test_irrelevant_fields_are_ignored():
    clean = ok(RecordInput("www", "A", 3600, "192.0.2.1", priority="junk", weight=object(), tag=5))
    assert clean == CleanRecord("www", "A", 3600, "192.0.2.1")


def test_not_a_record_input_is_refused():
    with pytest.raises(ValidationError):
        validate_record({"name": "www"}, ZONE)  # raw JSON from a client


def test_record_to_input_gives_the_form_fields():
    srv = ok(RecordInput("_sip._tcp", "SRV", 600, "sip.provider.net", priority=10, weight=5, port=5060))
    assert dns_rules.record_to_input(srv, ZONE) == RecordInput(
        "_sip._tcp", "SRV", 600, "sip.provider.net", priority=10, weight=5, port=5060)
    mx = ok(RecordInput("@", "MX", 600, "mail", priority=10))
    assert dns_rules.record_to_input(mx, ZONE).value == "mail.example.com"
    cname = ok(RecordInput("www", "CNAME", 600, "@"))
    assert dns_rules.record_to_input(cname, ZONE).value == "@"
    caa = ok(RecordInput("@", "CAA", 600, "ca.net", tag="issue", flags=128))
    assert dns_rules.record_to_input(caa, ZONE) == RecordInput("@", "CAA", 600, "ca.net", flags=128, tag="issue")


def test_single_label_absolute_target_round_trips():
    clean = ok(RecordInput("www", "CNAME", 600, "localhost."))
    assert clean.value == "localhost."
    assert dns_rules.record_to_input(clean, ZONE).value == "localhost."


def test_idn_zone():
    zone = "xn--bcher-kva.de"
    assert normalize_name("www.bücher.de", zone) == "www"
    assert dns_names.display_name("www", zone) == "www.bücher.de"
    assert ok(RecordInput("@", "MX", 600, "mail", priority=5), zone).value == "5 mail.xn--bcher-kva.de."


# --- rules between records ----------------------------------------------------------------


def rec(name, rtype, value, ttl=3600) -> CleanRecord:
    return CleanRecord(name, rtype, ttl, value)


def zone_error(records, focus=None) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        check_zone(records, ZONE, focus=focus)
    return info.value.field, info.value.message_key


def test_cname_stands_alone():
    cname = rec("www", "CNAME", "other.net.")
    assert zone_error([cname, rec("www", "A", "192.0.2.1")]) == ("name", "dns.error.cname_not_alone")
    assert zone_error([cname, rec("www", "TXT", '"x"')]) == ("name", "dns.error.cname_not_alone")
    assert zone_error([cname, rec("www", "CNAME", "third.net.")]) == ("name", "dns.error.cname_duplicate")
    check_zone([cname, rec("a.www", "A", "192.0.2.1"), rec("@", "A", "192.0.2.1")], ZONE)


def test_cname_never_at_apex():
    assert zone_error([rec("@", "CNAME", "other.net.")]) == ("name", "dns.error.cname_at_apex")


@pytest.mark.parametrize(("rtype", "value"), [
    ("MX", "10 mail.example.com."), ("NS", "mail.example.com."), ("SRV", "1 1 25 mail.example.com.")])
def test_targets_are_not_aliases(rtype, value):
    alias = rec("mail", "CNAME", "mx.provider.net.")
    pointer = rec("@" if rtype != "SRV" else "_smtp._tcp", rtype, value)
    assert zone_error([alias, pointer], focus=pointer) == ("value", "dns.error.target_is_alias")
    assert zone_error([pointer, alias], focus=alias) == ("name", "dns.error.alias_is_target")
    check_zone([rec("mail", "A", "192.0.2.1"), pointer], ZONE)


def test_target_outside_the_zone_is_not_checked():
    check_zone([rec("mail", "CNAME", "x.net."), rec("@", "MX", "10 mail.other.net.")], ZONE)


def test_target_covered_by_a_wildcard_cname_is_refused():
    wildcard = rec("*", "CNAME", "x.net.")
    mx = rec("@", "MX", "10 mail.example.com.")
    assert zone_error([wildcard, mx]) == ("value", "dns.error.target_is_alias")
    # an existing name is not covered by the wildcard
    check_zone([wildcard, mx, rec("mail", "A", "192.0.2.1")], ZONE)
    # nor is an empty non-terminal (a.mail exists, so mail exists)
    check_zone([wildcard, mx, rec("a.mail", "A", "192.0.2.1")], ZONE)
    # deeper wildcard: only the closest encloser's wildcard counts
    mx_deep = rec("@", "MX", "10 m.dev.example.com.")
    assert zone_error([rec("*.dev", "CNAME", "x.net."), rec("x.dev", "A", "192.0.2.1"), mx_deep]) == (
        "value", "dns.error.target_is_alias")
    check_zone([wildcard, rec("other.dev", "A", "192.0.2.1"), mx_deep], ZONE)


def test_duplicates_are_refused():
    assert zone_error([rec("www", "A", "192.0.2.1"), rec("www", "A", "192.0.2.1")]) == ("value", "dns.error.duplicate")
    check_zone([rec("www", "A", "192.0.2.1"), rec("www", "A", "192.0.2.2")], ZONE)


def test_zone_size_is_limited():
    many = [rec(f"h{i}", "A", "192.0.2.1") for i in range(dns_zone_rules.MAX_ZONE_RECORDS + 1)]
    assert zone_error(many) == ("name", "dns.error.zone_full")
    check_zone(many[:-1], ZONE)


def test_garbage_in_storage_is_refused():
    assert zone_error([rec("www", "A", "not an address")]) == ("value", "dns.error.value_invalid")
    assert zone_error([rec("www", "PTR", "x.")]) == ("rtype", "dns.error.type_unsupported")


def test_harmonize_ttl_sets_one_ttl_per_rrset():
    records = [rec("www", "A", "192.0.2.1", 300), rec("www", "AAAA", "::1", 300), rec("x", "A", "192.0.2.1", 300)]
    changed = rec("www", "A", "192.0.2.2", 900)
    assert [r.ttl for r in dns_zone_rules.harmonize_ttl(records, changed)] == [900, 300, 300]


# --- i18n ------------------------------------------------------------------------------------


def test_every_message_key_is_translated():
    source = "".join(open(module.__file__, encoding="utf-8").read()
                     for module in (dns_names, dns_rules, dns_zone_rules))
    keys = set(re.findall(r'"((?:dns|validation)\.[a-z_.]+)"', source))
    assert keys, "expected message keys in dns_rules"
    for lang in ("en", "de"):
        missing = keys - set(CATALOGS[lang])
        assert not missing, (lang, missing)


def test_catalogs_have_the_same_keys_and_placeholders():
    from panel_app.i18n.catalog import domains, mail

    for module in (domains, mail):
        assert set(module.EN) == set(module.DE)
        for key in module.EN:
            assert set(re.findall(r"{(\w+)}", module.EN[key])) == set(re.findall(r"{(\w+)}", module.DE[key])), key


# --- generated input: nothing crashes, nothing invalid passes ------------------------------

_LABEL = st.from_regex(r"[A-Za-z0-9_-]{1,66}", fullmatch=True)
_HOSTISH = st.builds(lambda labels, dot: ".".join(labels) + dot, st.lists(_LABEL, min_size=1, max_size=5),
                     st.sampled_from(["", "."]))
_NASTY = ["\ud800", "a\udfff.b", "\x00", "\u202e", "\ufeff", "\u0130", "ß" * 70, "\U0001F600", "a\u200db",
          "ａｂｃ。ｄｅｆ", "..", "*", "\\", '"', "1.2.3.4\n", "0x7f.1", "::ffff:1.2.3.4"]
_ODD_TEXT = st.one_of(
    st.text(max_size=300),
    # lone surrogates: a Python str may hold them, UTF-8 cannot
    st.text(alphabet=st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010, exclude_categories=()), max_size=20),
    st.lists(st.sampled_from(_NASTY), max_size=4).map("".join),
)
_HUGE_TEXT = st.builds(lambda ch, n: ch * n, st.characters(), st.integers(min_value=200, max_value=20000))
_NAMES = st.one_of(
    st.sampled_from(["@", "", "www", "*", "*.dev", "_sip._tcp", "bücher", "example.com.", "x.example.com"]),
    _HOSTISH, _ODD_TEXT, _HUGE_TEXT, st.integers(), st.none(),
)
_VALUES = st.one_of(
    st.ip_addresses().map(str), _HOSTISH, _ODD_TEXT, _HUGE_TEXT,
    st.sampled_from(["@", ".", "letsencrypt.org", ";", "mailto:a@b.example", "https://x.example/r",
                     '"a" "b"', '"\\255"', "v=spf1 -all"]),
    st.integers(), st.none(),
)
_NUMBERS = st.one_of(st.none(), st.integers(min_value=-10, max_value=70000), st.integers(),
                     st.text(max_size=12), st.floats(), st.booleans())


_TARGETS = st.one_of(st.sampled_from(["@", "mail", "www", "mx.provider.net", "ns1.other.net.", "bücher.de",
                                      "a..b", "-x.net", "_s._tcp.x.net", "."]), _HOSTISH)


@st.composite
def plausible_records(draw) -> RecordInput:
    """Records that are valid more often than not, with a sprinkling of trouble."""
    rtype = draw(st.sampled_from(dns_rules.RECORD_TYPES))
    small = st.integers(min_value=-2, max_value=65537)
    pool = st.sampled_from(["@", "www", "mail", "*", "*.dev", "x.dev", "_sip._tcp", "bücher", "www.example.com."])
    name = draw(st.one_of(pool, pool, pool, _HOSTISH, _ODD_TEXT))
    good_ttl = st.integers(min_value=dns_rules.TTL_MIN, max_value=dns_rules.TTL_MAX)
    ttl = draw(st.one_of(good_ttl, good_ttl, good_ttl, st.integers(min_value=50, max_value=90000),
                         st.sampled_from(["300", "", None])))
    values = {
        "A": st.one_of(st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(str), _ODD_TEXT),
        "AAAA": st.one_of(st.ip_addresses(v=6).map(str), st.ip_addresses(v=4).map(str), _ODD_TEXT),
        "CNAME": _TARGETS, "NS": _TARGETS, "MX": _TARGETS, "SRV": _TARGETS,
        "TXT": st.one_of(_ODD_TEXT, _HUGE_TEXT, st.text(max_size=5000), st.just('"a" "b\\"')),
        "CAA": st.one_of(st.sampled_from(["letsencrypt.org", ";", "ca.net; account=1", "mailto:x@y.example",
                                          "https://r.example/x", "ftp://x", "x"]), _ODD_TEXT),
    }
    return RecordInput(name=name, rtype=rtype, ttl=ttl, value=draw(values[rtype]),
                       priority=draw(small), weight=draw(small), port=draw(small),
                       flags=draw(st.one_of(st.none(), st.integers(min_value=-1, max_value=256))),
                       tag=draw(st.sampled_from([*dns_rules.CAA_TAGS, "Issue", "bogus"])))


def _assert_stored_form_is_sound(clean: CleanRecord) -> None:
    assert clean.rtype in dns_rules.RECORD_TYPES
    assert dns_rules.TTL_MIN <= clean.ttl <= dns_rules.TTL_MAX
    assert clean.name == "@" or re.fullmatch(r"(\*|[a-z0-9_-]{1,63})(\.[a-z0-9_-]{1,63})*", clean.name)
    assert "*" not in clean.name[1:]
    assert dns_rules.revalidate(clean, ZONE) == clean
    full = dns_names.absolute_name(clean.name, ZONE).to_text(omit_final_dot=True)
    assert len(full) <= dns_names.MAX_NAME_BYTES
    rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(clean.rtype), clean.value,
                                origin=dns.name.from_text(ZONE))
    if clean.rtype == "TXT":
        assert all(len(s) <= 255 for s in rdata.strings)
    if clean.rtype == "CNAME":
        assert clean.name != "@"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=_NAMES)
def test_generated_names_never_crash(name):
    try:
        result = normalize_name(name, ZONE)
    except ValidationError as exc:
        assert exc.field == "name"
        assert exc.message_key in CATALOGS["en"]
        return
    assert normalize_name(result, ZONE) == result  # normalising twice changes nothing


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=_NAMES,
    rtype=st.one_of(st.sampled_from(dns_rules.RECORD_TYPES), st.sampled_from(["mx", "PTR", ""]), _ODD_TEXT),
    ttl=_NUMBERS,
    value=_VALUES,
    priority=_NUMBERS,
    weight=_NUMBERS,
    port=_NUMBERS,
    flags=_NUMBERS,
    tag=st.one_of(st.sampled_from(dns_rules.CAA_TAGS), _ODD_TEXT, st.none()),
)
def test_generated_records_never_crash_and_never_pass_invalid(name, rtype, ttl, value, priority, weight, port,
                                                               flags, tag):
    record = RecordInput(name, rtype, ttl, value, priority, weight, port, flags, tag)
    try:
        clean = validate_record(record, ZONE)
    except ValidationError as exc:
        assert exc.field in {"name", "rtype", "ttl", "value", "priority", "weight", "port", "flags", "tag"}
        assert exc.message_key in CATALOGS["en"]
        return
    _assert_stored_form_is_sound(clean)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=plausible_records())
def test_plausible_records_validate_or_explain(record):
    try:
        clean = validate_record(record, ZONE)
    except ValidationError as exc:
        assert exc.message_key in CATALOGS["en"]
        return
    _assert_stored_form_is_sound(clean)


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=1500))
def test_generated_txt_round_trips(text):
    try:
        clean = validate_record(RecordInput("@", "TXT", 3600, text), ZONE)
    except ValidationError as exc:
        assert exc.message_key in {"validation.required", "dns.error.txt_too_long", "dns.error.txt_invalid"}
        return
    _assert_stored_form_is_sound(clean)
    joined = b"".join(_txt_strings(clean.value)).decode("utf-8")
    stripped = text.strip()
    if not re.fullmatch(r'".*"', stripped, re.DOTALL):
        assert joined == stripped  # exactly what the user typed, minus outer spaces
