"""The referrer's workspace in Chromium: import with mapping, refer a selection to
several addresses, and the referral lifecycle seen live from both sides."""

import re

from playwright.sync_api import expect
from sqlmodel import select

from chub_ui import db
from chub_ui.models import KIND_LEAD, Record, Referral, User
from tests.e2e.conftest import OWNER_EMAIL, PARTNER_EMAIL
from tests.e2e.helpers import invitation_link, refer_by_service, sign_in

# Known to nobody's header guesser: the user has to map it by hand.
MAPPING_CSV = (
    "Full name;Firma;Mail;Tags\n"
    'Ada Mapping;Analytical Engines;ada@mapping.example;"vip, fair"\n'
    "Bad Mapping;Broken Co;not-an-address;\n"
    "Grace Mapping;Compilers Inc;grace@mapping.example;fair\n"
)


def _owner_records(name_prefix: str) -> list[Record]:
    with db.open_session() as session:
        return list(
            session.exec(
                select(Record)
                .join(User, User.account_id == Record.account_id)
                .where(User.email == OWNER_EMAIL, Record.name.startswith(name_prefix))
                .order_by(Record.name)
            )
        )


def _lead_of_owner(name: str, **fields) -> int:
    with db.open_session() as session:
        owner = session.exec(select(User).where(User.email == OWNER_EMAIL)).one()
        record = Record(
            account_id=owner.account_id,
            created_by_id=owner.id,
            kind=KIND_LEAD,
            name=name,
            **fields,
        )
        session.add(record)
        session.commit()
        return record.id


def test_import_with_mapping_keeps_good_rows(new_page, tmp_path, screenshots):
    source = tmp_path / "fair-contacts.csv"
    source.write_text(MAPPING_CSV, encoding="utf-16")
    page = new_page()
    sign_in(page, OWNER_EMAIL, "/import")
    page.wait_for_url(re.compile(r"/import$"))
    page.locator("#import-file input[type=file]").set_input_files(str(source))
    page.click("#import-submit")

    expect(page.locator("#import-summary")).to_contain_text("UTF-16")
    expect(page.locator("#import-summary")).to_contain_text("3 rows")
    # "Firma" is German for company; the guesser does not know it.
    expect(page.locator("#map-1")).not_to_have_value("company")
    page.select_option("#map-1", "company")
    expect(page.locator("#import-sample")).to_contain_text("Analytical Engines")
    expect(page.locator("#import-problems")).to_contain_text(
        "row 3: 'not-an-address' is not a valid e-mail address"
    )
    page.screenshot(path=screenshots / "import-mapping.png", full_page=True)
    page.click("#import-good-rows")

    expect(page.locator("#import-result")).to_contain_text("Imported 2")
    saved = _owner_records("Ada Mapping") + _owner_records("Grace Mapping")
    assert [(r.name, r.company, r.email) for r in saved] == [
        ("Ada Mapping", "Analytical Engines", "ada@mapping.example"),
        ("Grace Mapping", "Compilers Inc", "grace@mapping.example"),
    ]
    assert saved[0].labels == "vip, fair"
    assert _owner_records("Bad Mapping") == []


def test_refer_a_selection_to_several_addresses(new_page, smtp, screenshots):
    first = _lead_of_owner("Selection Alpha", company="Alpha Ltd")
    second = _lead_of_owner(
        "Selection Beta", company="Beta Ltd", email="beta.buyer@beta.example"
    )
    page = new_page()
    sign_in(page, OWNER_EMAIL, "/leads")
    page.wait_for_url(re.compile(r"/leads$"))
    page.fill("#record-search", "Selection")
    expect(page.locator("#record-table")).to_contain_text("Selection Beta")
    page.locator(f"#select-{first}").click()
    page.locator(f"#select-{second}").click()
    page.click("#refer-selected")
    page.fill("#refer-to-email", "one.partner@example.com,\ntwo.partner@example.com")
    page.fill("#refer-message", "Two leads for the fair.")
    # Beta holds a person's e-mail address: sharing it needs a confirmation.
    page.check("#refer-consent")
    page.screenshot(path=screenshots / "refer-selection.png")
    page.click("#refer-submit")

    expect(page.locator("#refer-success")).to_contain_text("4 referrals made")
    for address in ("one.partner@example.com", "two.partner@example.com"):
        invitation_link(smtp, address, count=2)
    with db.open_session() as session:
        referred = session.exec(
            select(Referral.record_id, Referral.recipient_email).where(
                Referral.record_id.in_([first, second])
            )
        ).all()
    assert sorted(referred) == sorted(
        (record, address)
        for record in (first, second)
        for address in ("one.partner@example.com", "two.partner@example.com")
    )
    page.screenshot(path=screenshots / "refer-selection-done.png", full_page=True)


def test_revoke_takes_access_from_an_open_partner_page(new_page, screenshots):
    referral_id = refer_by_service(PARTNER_EMAIL, "Revocable Robotics deal")
    partner = new_page()
    sign_in(partner, PARTNER_EMAIL, f"/referrals/{referral_id}")
    partner.wait_for_url(re.compile(rf"/referrals/{referral_id}$"))
    expect(partner.locator("#detail-name")).to_have_text("Revocable Robotics deal")

    owner = new_page()
    sign_in(owner, OWNER_EMAIL, f"/sent/{referral_id}")
    owner.wait_for_url(re.compile(rf"/sent/{referral_id}$"))
    expect(owner.locator("#sent-summary")).to_contain_text("viewed")
    owner.click("#sent-revoke")
    owner.click("#sent-revoke-confirm")
    expect(owner.locator("#sent-summary")).to_contain_text("revoked")

    # No reload: the open page notices within a few seconds.
    expect(partner.locator("#referral-gone")).to_contain_text("revoked", timeout=10_000)
    expect(partner.get_by_text("Revocable Robotics deal")).to_have_count(0)
    partner.screenshot(path=screenshots / "referral-revoked-live.png", full_page=True)
    owner.screenshot(path=screenshots / "sent-timeline-revoked.png", full_page=True)
    partner.goto("/referrals")
    expect(partner.locator("body")).not_to_contain_text("Revocable Robotics deal")


def test_decline_with_a_reason_is_seen_by_the_referrer(new_page, screenshots):
    referral_id = refer_by_service(PARTNER_EMAIL, "Declinable Dynamics")
    owner = new_page()
    sign_in(owner, OWNER_EMAIL, f"/sent/{referral_id}")
    owner.wait_for_url(re.compile(rf"/sent/{referral_id}$"))

    partner = new_page()
    sign_in(partner, PARTNER_EMAIL, f"/referrals/{referral_id}")
    partner.wait_for_url(re.compile(rf"/referrals/{referral_id}$"))
    partner.click("#referral-decline")
    partner.fill("#decline-reason", "We do not serve the robotics sector.")
    partner.screenshot(path=screenshots / "decline-dialog.png")
    partner.click("#decline-confirm")
    expect(partner.locator("#referral-gone")).to_contain_text("declined")

    # The referrer's open timeline shows it without a reload.
    expect(owner.locator("#sent-summary")).to_contain_text("declined", timeout=10_000)
    expect(owner.locator("#sent-timeline")).to_contain_text(
        "We do not serve the robotics sector."
    )
    owner.screenshot(path=screenshots / "sent-timeline-declined.png", full_page=True)
    owner.goto("/sent")
    owner.select_option("#sent-state-filter", "declined")
    expect(owner.locator("#sent-table")).to_contain_text("Declinable Dynamics")
    owner.screenshot(path=screenshots / "sent-list.png", full_page=True)


def test_resend_after_a_failed_delivery(new_page, smtp, screenshots):
    smtp.refuse_next(reply="550 5.1.1 Mailbox unavailable")
    referral_id = refer_by_service("bouncing.partner@example.com", "Bounce Ltd")
    owner = new_page()
    sign_in(owner, OWNER_EMAIL, f"/sent/{referral_id}")
    owner.wait_for_url(re.compile(rf"/sent/{referral_id}$"))
    expect(owner.locator("#sent-summary")).to_contain_text("failed", timeout=15_000)
    expect(owner.locator("#sent-summary")).to_contain_text("550")
    owner.screenshot(path=screenshots / "sent-delivery-failed.png", full_page=True)
    assert smtp.messages_to("bouncing.partner@example.com") == []

    owner.click("#sent-resend")
    link = invitation_link(smtp, "bouncing.partner@example.com")
    expect(owner.locator("#sent-summary")).to_contain_text("sent", timeout=15_000)
    owner.click("#sent-copy-link")
    expect(owner.locator("#sent-link")).to_have_value(link)
    expect(owner.locator("#sent-timeline")).to_contain_text("550")
    owner.screenshot(path=screenshots / "sent-resent.png", full_page=True)


def test_dashboard_and_audit_show_the_activity(new_page, screenshots):
    refer_by_service("dashboard.partner@example.com", "Dashboard Deal")
    page = new_page()
    sign_in(page, OWNER_EMAIL, "/dashboard")
    page.wait_for_url(re.compile(r"/dashboard$"))
    expect(page.locator("#dashboard-chart")).to_be_visible()
    expect(page.locator("#dashboard-partners")).to_contain_text(
        "dashboard.partner@example.com"
    )
    page.screenshot(path=screenshots / "dashboard.png", full_page=True)

    page.goto("/audit")
    page.select_option("#audit-action", "refer")
    expect(page.locator("#audit-table")).to_contain_text("Dashboard Deal")
    page.screenshot(path=screenshots / "audit.png", full_page=True)
