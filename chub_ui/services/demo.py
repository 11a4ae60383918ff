"""Demo mode: the seeded demo data and the mailbox page of unsent mail."""

import logging
import re
from datetime import timedelta

from sqlmodel import Session, select

from chub_ui.models import (
    KIND_CONTACT,
    KIND_LEAD,
    PLAN_FREE,
    PLAN_PAID,
    OutboxMessage,
    Record,
    Referral,
    ReferralEvent,
    User,
)
from chub_ui.services import auth, referral_lifecycle, referrals, saving
from chub_ui.services.errors import NotAllowed
from chub_ui.settings import settings

logger = logging.getLogger(__name__)

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"  # noqa: S105  (printed in the log and README)
DEMO_MAILBOX_SIZE = 50
# Two partners, so a demo shows both sides: a free Partner's Network and a
# paid reseller who saves what he is sent. They share the demo password.
DEMO_PARTNER_EMAIL = "partner@example.com"
DEMO_RESELLER_EMAIL = "reseller@example.com"
_LINK = re.compile(r"https?://\S+/invite/[A-Za-z0-9_\-]+")

# Invented people and companies for a demo; none of them is real.
DEMO_RECORDS = (
    (
        KIND_LEAD,
        "Nadia Brenner",
        "Lumen Solar GmbH",
        "nadia.brenner@lumen-solar.example",
        "+49 30 5550 1201",
        "Berlin",
        "Germany",
        "Wants 40 rooftop kits before March.",
    ),
    (
        KIND_LEAD,
        "Tomás Ibarra",
        "Ibarra Logística",
        "tomas@ibarra-logistica.example",
        "+34 91 555 0142",
        "Madrid",
        "Spain",
        "Fleet tracking pilot for 12 trucks.",
    ),
    (
        KIND_LEAD,
        "Grace Okafor",
        "Okafor Foods Ltd",
        "grace.okafor@okaforfoods.example",
        "+44 20 5550 0190",
        "London",
        "United Kingdom",
        "Asked for a cold-chain quote.",
    ),
    (
        KIND_LEAD,
        "Kenji Watanabe",
        "Watanabe Precision",
        "k.watanabe@wprecision.example",
        "+81 3 5550 0177",
        "Osaka",
        "Japan",
        "Met at the trade fair; follow up in May.",
    ),
    (
        KIND_LEAD,
        "Amara Diallo",
        "Sahel Textiles",
        "amara@saheltextiles.example",
        "+221 33 555 0110",
        "Dakar",
        "Senegal",
        "Looking for a European distributor.",
    ),
    (
        KIND_LEAD,
        "Lukas Novak",
        "Novak Bikes s.r.o.",
        "lukas@novakbikes.example",
        "+420 2 5550 0133",
        "Prague",
        "Czechia",
        "Needs 200 frames a month.",
    ),
    (
        KIND_CONTACT,
        "Priya Raman",
        "Raman & Sons Consulting",
        "priya@ramanconsult.example",
        "+91 80 5550 0165",
        "Bengaluru",
        "India",
        "Introduces us to retail chains.",
    ),
    (
        KIND_CONTACT,
        "Olaf Lindqvist",
        "Nordvik Shipping AB",
        "olaf.lindqvist@nordvik.example",
        "+46 8 5550 0121",
        "Stockholm",
        "Sweden",
        "Prefers calls before 10 am.",
    ),
    (
        KIND_CONTACT,
        "Chloé Martin",
        "Atelier Martin",
        "chloe@ateliermartin.example",
        "+33 1 5550 0188",
        "Lyon",
        "France",
        "Designer; long-standing partner.",
    ),
    (
        KIND_CONTACT,
        "Samuel Adeyemi",
        "Lagos Fintech Hub",
        "samuel@lagoshub.example",
        "+234 1 555 0150",
        "Lagos",
        "Nigeria",
        "Runs the partner programme.",
    ),
    (
        KIND_CONTACT,
        "Isabella Rossi",
        "Rossi Vini",
        "isabella@rossivini.example",
        "+39 055 555 0104",
        "Florence",
        "Italy",
        "Wine exports to North America.",
    ),
    (
        KIND_CONTACT,
        "Mateo Fernández",
        "Andes Mining Supply",
        "mateo@andesmining.example",
        "+56 2 5550 0171",
        "Santiago",
        "Chile",
        "Buys safety equipment yearly.",
    ),
)


def seed_demo(*, session: Session) -> bool:
    """Create the demo CRM user and their records on an empty database.

    Returns:
        True when the demo was created, False when users already existed.
    """
    if session.exec(select(User.id)).first() is not None:
        return False

    user = auth.create_user(
        session=session,
        email=DEMO_EMAIL,
        password=DEMO_PASSWORD,
        full_name="Dana Demo",
        plan="paid",
        account_name="Demo Company",
    )
    for kind, name, company, email, phone, city, country, notes in DEMO_RECORDS:
        session.add(
            Record(
                account_id=user.account_id,
                created_by_id=user.id,
                kind=kind,
                name=name,
                company=company,
                email=email,
                phone=phone,
                city=city,
                country=country,
                description=notes,
                source="Demo data",
            )
        )
    session.commit()
    _seed_referral_activity(session=session, user_id=user.id)
    logger.warning(
        "demo seeded: sign in as %s with password %s (partners: %s, %s)",
        DEMO_EMAIL,
        DEMO_PASSWORD,
        DEMO_PARTNER_EMAIL,
        DEMO_RESELLER_EMAIL,
    )
    return True


def _seed_referral_activity(*, session: Session, user_id: int) -> None:
    """Referrals in every state, spread over the past weeks, made through the
    same services a user's clicks go through."""
    partner = auth.create_user(
        session=session,
        email=DEMO_PARTNER_EMAIL,
        password=DEMO_PASSWORD,
        full_name="Priya Partner",
        plan=PLAN_FREE,
    )
    reseller = auth.create_user(
        session=session,
        email=DEMO_RESELLER_EMAIL,
        password=DEMO_PASSWORD,
        full_name="Marco Reseller",
        plan=PLAN_PAID,
    )
    session.commit()
    demo = auth.current_user_for(session, user_id)
    as_partner = auth.current_user_for(session, partner.id)
    as_reseller = auth.current_user_for(session, reseller.id)
    by_name = {
        record.name: record.id
        for record in session.exec(
            select(Record).where(Record.account_id == demo.account_id)
        )
    }

    def refer(name: str, address: str) -> int:
        referral_lifecycle.refer_records(
            session=session,
            user=demo,
            record_ids=[by_name[name]],
            addresses=address,
            message="Met them at the trade fair; worth a call.",
            consent=True,
        )
        return session.exec(
            select(Referral.id)
            .where(Referral.record_id == by_name[name])
            .order_by(Referral.id.desc())
        ).first()

    saved = refer("Nadia Brenner", DEMO_RESELLER_EMAIL)
    referrals.referral_detail(session=session, user=as_reseller, referral_id=saved)
    saving.save_as_own(
        session=session, user=as_reseller, referral_id=saved, kind=KIND_LEAD
    )
    viewed = refer("Mateo Fernández", DEMO_PARTNER_EMAIL)
    referrals.referral_detail(session=session, user=as_partner, referral_id=viewed)
    declined = refer("Samuel Adeyemi", DEMO_PARTNER_EMAIL)
    referral_lifecycle.decline_referral(
        session=session,
        user=as_partner,
        referral_id=declined,
        reason="We already work with the Lagos Fintech Hub.",
    )
    revoked = refer("Isabella Rossi", DEMO_PARTNER_EMAIL)
    referral_lifecycle.revoke_referral(session=session, user=demo, referral_id=revoked)
    invited = refer("Chloé Martin", "ana.agency@example.com")
    session.commit()

    # Spread the history over the past weeks so the dashboard has a curve.
    for referral_id, days_ago in (
        (saved, 18),
        (viewed, 11),
        (declined, 7),
        (revoked, 4),
        (invited, 1),
    ):
        _shift_back(session, referral_id, timedelta(days=days_ago))
    session.commit()


def _shift_back(session: Session, referral_id: int, delta: timedelta) -> None:
    """Move a referral and its timeline back in time by delta."""
    columns = (
        "created_at",
        "accepted_at",
        "viewed_at",
        "saved_at",
        "declined_at",
        "revoked_at",
    )
    referral = session.get(Referral, referral_id)
    for column in columns:
        moment = getattr(referral, column)
        if moment is not None:
            setattr(referral, column, moment - delta)
    for event in session.exec(
        select(ReferralEvent).where(ReferralEvent.referral_id == referral_id)
    ):
        event.created_at -= delta
    for copy in session.exec(
        select(Record).where(Record.copied_from_referral_id == referral_id)
    ):
        copy.created_at -= delta


def demo_mailbox(*, session: Session) -> list[dict]:
    """The newest messages of the outbox, for clicking through a demo.

    Raises:
        NotAllowed: demo mode is off, so the mailbox does not exist.
    """
    if not settings.demo_mode:
        raise NotAllowed(
            "The demo mailbox is off. It exists only when CHUB_DEMO=1 (make run)."
        )

    rows = session.exec(
        select(OutboxMessage)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(DEMO_MAILBOX_SIZE)
    ).all()
    messages = []
    for row in rows:
        # The real link comes last; a referrer's message may hold another.
        links = _LINK.findall(row.body_text)
        found = links[-1] if links else ""
        messages.append(
            {
                "id": row.id,
                "to": row.to_address,
                "subject": row.subject,
                "status": row.status,
                "note": row.last_error,
                "created_at": f"{row.created_at:%Y-%m-%d %H:%M} UTC",
                "body": row.body_text,
                "link_path": "/invite/" + found.rsplit("/", 1)[-1] if found else "",
            }
        )
    return messages
