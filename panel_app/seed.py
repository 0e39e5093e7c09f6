"""Demo data: one customer with an owner and a technical administrator.

Runs once (``seed_demo`` does nothing when the demo owner exists). Only for
``PANEL_ENV=demo``: production refuses to start on a database holding it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlmodel import Session, select

from panel_app.clock import utcnow
from panel_app.models import (
    Account, DnsRecord, Document, Domain, Invoice, Mailbox, MailForwarder, PaymentMethod,
    LoginSession, Service, Ticket, TicketMessage, User,
)
from panel_app.security.crypto import encrypt
from panel_app.security.passwords import hash_password
from panel_app.security.permissions import Area
from panel_app.services import billing, dns_names, dns_rules, dns_zone_rules
from panel_app.services.accounts import create_account_with_owner
from panel_app.services.audit import Actor, record
from panel_app.services.dns_rules import RecordInput

DEMO_OWNER_EMAIL = "owner@example.com"
DEMO_OWNER_PASSWORD = "panel-demo-owner"
DEMO_TECH_EMAIL = "tech@example.com"
DEMO_TECH_PASSWORD = "panel-demo-tech"


def _zone(domain_id: int, domain_name: str, apex_ip: str) -> list[DnsRecord]:
    """A typical hosted zone, stored exactly as the DNS editor would store it."""
    origin = dns_names.zone_origin(domain_name)
    inputs = [
        RecordInput(name="@", rtype="A", value=apex_ip),
        RecordInput(name="@", rtype="AAAA", value="2001:db8:10::10"),
        RecordInput(name="www", rtype="CNAME", value="@"),
        RecordInput(name="@", rtype="MX", priority=10, value="mx1.panel-hosting.example"),
        RecordInput(name="@", rtype="MX", priority=20, value="mx2.panel-hosting.example"),
        RecordInput(name="@", rtype="TXT", value="v=spf1 include:_spf.panel-hosting.example ~all"),
        RecordInput(name="@", rtype="CAA", flags=0, tag="issue", value="letsencrypt.org"),
        RecordInput(name="_submission._tcp", rtype="SRV", priority=0, weight=1, port=587,
                    value="mail.panel-hosting.example"),
        RecordInput(name="@", rtype="NS", ttl=86400, value="ns1.panel-hosting.example"),
        RecordInput(name="@", rtype="NS", ttl=86400, value="ns2.panel-hosting.example"),
    ]
    clean = [dns_rules.validate_record(record, origin) for record in inputs]
    dns_zone_rules.check_zone(clean, origin)
    return [DnsRecord(domain_id=domain_id, name=c.name, rtype=c.rtype, ttl=c.ttl, value=c.value) for c in clean]


_DEMO_PHONE_BROWSER = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
                       "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")


def _passkey_history(db: Session, owner: User) -> None:
    """The activity log's story of a passkey: added under an email code, used at the gate,
    removed again (the demo owner holds no real credential)."""
    actor = Actor.for_user(owner, ip="198.51.100.23", user_agent=_DEMO_PHONE_BROWSER)
    name = "Jana's iPhone"
    now = utcnow()
    added = now - timedelta(days=30)
    record(db, actor, Area.AUTH, "verification_succeeded", now=added - timedelta(minutes=2), method="email")
    record(db, actor, Area.AUTH, "passkey_added", now=added, passkey=name, synced=True, method="email")
    for days_ago in (21, 12):
        record(db, actor, Area.AUTH, "verification_succeeded", now=now - timedelta(days=days_ago), method="passkey",
               passkey=name)
    record(db, actor, Area.AUTH, "passkey_removed", now=now - timedelta(days=12) + timedelta(minutes=3),
           passkey=name, grants_ended=True)


def seed_demo(db: Session) -> bool:
    if db.exec(select(User).where(User.email == DEMO_OWNER_EMAIL)).first() is not None:
        return False
    today = utcnow().date()
    owner = create_account_with_owner(
        db, email=DEMO_OWNER_EMAIL, password=DEMO_OWNER_PASSWORD, name="Jana Schmidt",
        phone="+4915112345612", company="Schmidt Webdesign", is_demo=True,
    )
    owner.created_at = utcnow() - timedelta(days=700)  # a customer of long standing: factors have settled
    db.flush()
    _passkey_history(db, owner)
    account = db.get(Account, owner.account_id)
    account.street, account.postal_code, account.city, account.country = "Lindenstraße 12", "10969", "Berlin", "DE"
    account.vat_id = "DE123456789"
    db.add(account)

    tech = User(account_id=account.id, email=DEMO_TECH_EMAIL, name="Tom Berger", phone="+4917612345634",
                password_hash=hash_password(DEMO_TECH_PASSWORD), role="admin", areas="domains,email",
                created_at=utcnow() - timedelta(days=200))
    db.add(tech)

    services = [
        Service(account_id=account.id, name="Webhosting Business", plan="Business 50 GB", status="active",
                started_on=today - timedelta(days=700), renews_on=today + timedelta(days=30), price_cents=1490,
                disk_used_mb=18_400, disk_quota_mb=51_200, traffic_used_gb=120, traffic_quota_gb=1000),
        Service(account_id=account.id, name="Managed WordPress", plan="WP Pro", status="active",
                started_on=today - timedelta(days=200), renews_on=today + timedelta(days=165), price_cents=990,
                disk_used_mb=4_300, disk_quota_mb=20_480, traffic_used_gb=35, traffic_quota_gb=500),
        Service(account_id=account.id, name="Mail Plus", plan="10 mailboxes", status="active",
                started_on=today - timedelta(days=400), renews_on=today + timedelta(days=330), price_cents=390,
                disk_used_mb=2_100, disk_quota_mb=10_240, traffic_used_gb=0, traffic_quota_gb=0),
    ]
    db.add_all(services)

    domains = []
    for index, (name, ip) in enumerate([("schmidt-webdesign.example", "203.0.113.10"),
                                         ("jana-schmidt.example", "203.0.113.11"),
                                         ("kunde-baeckerei.example", "203.0.113.12")]):
        domain = Domain(account_id=account.id, name=name, registered_on=today - timedelta(days=900 - index * 200),
                        expires_on=today + timedelta(days=60 + index * 90), transfer_lock=True,
                        auth_code_enc=encrypt(secrets.token_urlsafe(12)))
        db.add(domain)
        db.flush()
        domains.append(domain)
        db.add_all(_zone(domain.id, name, ip))
    main = domains[0]
    main.catch_all = ""
    for local, used in (("info", 820), ("jana", 2_300), ("rechnungen", 120)):
        db.add(Mailbox(domain_id=main.id, local_part=local, password_hash=hash_password(secrets.token_urlsafe(16)),
                       quota_mb=5_120, used_mb=used))
    db.add(MailForwarder(domain_id=main.id, local_part="kontakt", destination="info@schmidt-webdesign.example"))

    for number, months_ago, status, lines in [
        ("2026-000101", 3, "paid", [("Webhosting Business, 3 months", 3, 1490, 19), ("Domain renewal .example", 1, 1200, 19)]),
        ("2026-000154", 2, "paid", [("Webhosting Business, 1 month", 1, 1490, 19), ("Managed WordPress", 1, 990, 19)]),
        ("2026-000203", 1, "open", [("Webhosting Business, 1 month", 1, 1490, 19), ("Mail Plus", 1, 390, 19),
                                    ("Printed contract copy", 1, 500, 7)]),
        ("2026-000241", 0, "open", [("Managed WordPress", 1, 990, 19)]),
    ]:
        issue = today - timedelta(days=30 * months_ago + 2)
        billing.issue_invoice(db, account.id, number=number, issue_date=issue, supply_date=issue - timedelta(days=1),
                              due_date=issue + timedelta(days=14), status=status,
                              lines=[billing.NewLine(*line) for line in lines])
    db.add(Document(account_id=account.id, title="Hosting contract", kind="contract",
                    issued_on=today - timedelta(days=700),
                    body="Hosting contract between Panel Hosting GmbH and Schmidt Webdesign.\n"
                         "Service: Webhosting Business. Term: 12 months, renewing automatically.\n"
                         "Notice period: 1 month before the end of the term."))
    db.add(Document(account_id=account.id, title="Data processing agreement", kind="dpa",
                    issued_on=today - timedelta(days=700),
                    body="Agreement on commissioned data processing under Art. 28 GDPR."))
    db.add(PaymentMethod(account_id=account.id, kind="card", brand="Visa", last4="4242", exp_month=8,
                         exp_year=today.year + 2, holder="Jana Schmidt", token=secrets.token_hex(16),
                         is_default=True))

    now = utcnow()
    for subject, kind, status, body in [
        ("SSL certificate for shop subdomain", "technical", "answered",
         "Could you issue a certificate for shop.schmidt-webdesign.example?"),
        ("Question about my last invoice", "billing", "open", "Why does invoice 2026-000203 contain a printed copy?"),
    ]:
        ticket = Ticket(account_id=account.id, user_id=owner.id, subject=subject, kind=kind, status=status,
                        created_at=now - timedelta(days=3), updated_at=now - timedelta(days=1))
        db.add(ticket)
        db.flush()
        db.add(TicketMessage(ticket_id=ticket.id, author_user_id=owner.id, author_label=owner.name, body=body,
                             created_at=now - timedelta(days=3)))
        if status == "answered":
            db.add(TicketMessage(ticket_id=ticket.id, author_label="Panel Support",
                                 body="Done: the certificate is active. Kind regards, your support team.",
                                 created_at=now - timedelta(days=1)))
    # Tom lost his phone: the open request the support console resolves.
    contact_ticket = Ticket(account_id=account.id, user_id=tech.id, subject="Update my contact details",
                            kind="contact_update", status="open", created_at=now - timedelta(hours=5),
                            updated_at=now - timedelta(hours=5))
    db.add(contact_ticket)
    db.flush()
    db.add(TicketMessage(ticket_id=contact_ticket.id, author_user_id=tech.id, author_label=tech.name,
                         body="My phone was stolen, so WhatsApp codes no longer reach me. My new number is "
                              "+49 176 98765434. Please call me back.", created_at=now - timedelta(hours=5)))
    seed_demo_staff(db)
    db.flush()
    return True


# Demo mode only: the support console's two logins, with fixed authenticator secrets so
# that the README can show them (add them to an authenticator app, or use pyotp).
DEMO_STAFF = (
    ("agent@example.com", "Maria Keller", "panel-demo-agent", False, "ZQUFC3DT4XIU4D2BF7GCXRAZB6DSTZME"),
    ("staffadmin@example.com", "Stefan Wolf", "panel-demo-staffadmin", True, "3XCNYJWXPYMCPQBD6B6N6X3GAAXIZ2WF"),
)


def seed_demo_staff(db: Session) -> list[tuple[str, str]]:
    """The demo agent and staff admin (idempotent); returns (email, TOTP secret) to print."""
    from panel_app.models import StaffUser
    from panel_app.security import totp

    made = []
    for email, name, password, admin, secret in DEMO_STAFF:
        if db.exec(select(StaffUser).where(StaffUser.email == email)).first() is None:
            db.add(StaffUser(email=email, name=name, role="staff_admin" if admin else "staff",
                             password_hash=hash_password(password), totp_secret_enc=totp.encrypt_secret(secret),
                             totp_enabled_at=utcnow()))
        made.append((email, secret))
    db.flush()
    return made


def remove_demo(db: Session) -> int:
    """Delete demo accounts and everything that belongs to them."""
    from sqlmodel import SQLModel

    demo_ids = [a.id for a in db.exec(select(Account).where(Account.is_demo)).all()]
    if not demo_ids:
        return 0
    user_ids = [u.id for u in db.exec(select(User).where(User.account_id.in_(demo_ids))).all()]
    domain_ids = [d.id for d in db.exec(select(Domain).where(Domain.account_id.in_(demo_ids))).all()]
    invoice_ids = [i.id for i in db.exec(select(Invoice).where(Invoice.account_id.in_(demo_ids))).all()]
    ticket_ids = [t.id for t in db.exec(select(Ticket).where(Ticket.account_id.in_(demo_ids))).all()]
    session_ids = list(db.exec(select(LoginSession.id).where(LoginSession.user_id.in_(user_ids))).all()) \
        if user_ids else []
    keys = {"account_id": demo_ids, "user_id": user_ids, "domain_id": domain_ids, "invoice_id": invoice_ids,
            "ticket_id": ticket_ids, "actor_user_id": user_ids, "created_by_user_id": user_ids,
            "author_user_id": user_ids, "login_session_id": session_ids}
    for table in reversed(SQLModel.metadata.sorted_tables):
        for column, ids in keys.items():
            if column in table.c and ids:
                db.execute(table.delete().where(table.c[column].in_(ids)))
    db.execute(Account.__table__.delete().where(Account.id.in_(demo_ids)))
    _remove_demo_staff(db)
    return len(demo_ids)


def _remove_demo_staff(db: Session) -> None:
    from panel_app.models import (EvidenceCheck, StaffAuditEvent, StaffRequest, StaffSession, StaffUser,
                                  WebAuthnChallenge, WebAuthnCredential)

    ids = [s.id for s in db.exec(select(StaffUser).where(StaffUser.email.in_([s[0] for s in DEMO_STAFF]))).all()]
    if not ids:
        return
    for model, columns in ((WebAuthnCredential, ("staff_id",)), (WebAuthnChallenge, ("staff_id",)),
                           (StaffSession, ("staff_id",)), (StaffAuditEvent, ("staff_id",)),
                           (EvidenceCheck, ("staff_id",)), (StaffRequest, ("requested_by", "decided_by"))):
        for column in columns:
            db.execute(model.__table__.delete().where(model.__table__.c[column].in_(ids)))
    db.execute(StaffUser.__table__.delete().where(StaffUser.id.in_(ids)))
