"""Rows written straight into the test database, for tests of later steps."""

from sqlmodel import Session, SQLModel

from chub_ui.models import KIND_CONTACT, Document, Record, Referral
from chub_ui.services import library, referrals

# The smallest file the library takes as a PDF.
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def add_row(session: Session, row: SQLModel) -> SQLModel:
    """Insert a row, commit, and return it fresh from the database."""
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def add_record(session: Session, user, **fields) -> Record:
    """A lead or contact of the user's account (a contact unless kind says)."""
    fields.setdefault("kind", KIND_CONTACT)
    return add_row(
        session, Record(account_id=user.account_id, created_by_id=user.id, **fields)
    )


def add_document(session: Session, user, name: str) -> Document:
    """A document row of the user's, with no file behind it."""
    return add_row(
        session,
        Document(
            owner_id=user.id,
            account_id=user.account_id,
            name=name,
            stored_name=f"{name}-{user.id}".ljust(32, "x"),
            content_type="application/pdf",
            type_label="PDF",
            sha256="0" * 64,
        ),
    )


def add_referral(
    session: Session, referrer, recipient, *, record=None, document=None
) -> Referral:
    """A referral already granted to the recipient, without an invitation."""
    return add_row(
        session,
        Referral(
            record_id=record.id if record else None,
            document_id=document.id if document else None,
            referrer_id=referrer.id,
            recipient_email=recipient.email,
            recipient_id=recipient.id,
        ),
    )


def refer_new_document(
    session: Session, user, to_email: str, name: str = "Brochure.pdf"
) -> tuple[int, int]:
    """Store a PDF as the user's document and refer it: (document id, referral id).

    Unlike the rows above, this goes through the services, so the referral has
    its invitation, e-mail and timeline like one made in the app.
    """
    document = library.store_document(session=session, user=user, name=name, data=PDF)
    referral_id = referrals.refer_document(
        session=session, user=user, document_id=document["id"], to_email=to_email
    ).referral_id
    return document["id"], referral_id


def record_snapshot(session: Session, record_id: int) -> dict:
    """Every column of a record as the database holds it now."""
    session.expire_all()
    return session.get(Record, record_id).model_dump()
