"""The Partner's Network modules in Chromium, on both plans."""

import re
from pathlib import Path

from playwright.sync_api import expect
from sqlmodel import select

from chub_ui import db
from chub_ui.models import PLAN_FREE, PLAN_PAID, Document, Record, User
from tests.conftest import REALDATA
from tests.e2e.helpers import (
    create_account,
    invitation_link,
    refer_by_service,
    sign_in,
)

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def test_upload_with_progress_download_share_and_a_rejected_file(
    new_page, tmp_path, screenshots
):
    create_account("lib.owner@example.com", plan=PLAN_PAID, name="Libby Owner")
    create_account("lib.partner@example.com", plan=PLAN_FREE, name="Lib Partner")
    report = tmp_path / "Q3 report.pdf"
    report.write_bytes(PDF * 2000)
    page_file = tmp_path / "landing.html"
    page_file.write_bytes(b"<!doctype html><script>alert(1)</script>")

    owner = new_page()
    sign_in(owner, "lib.owner@example.com", "/library")
    owner.wait_for_url(re.compile(r"/library$"))
    expect(owner.get_by_text("Your library is empty")).to_be_visible()
    owner.locator("#library_upload input[type=file]").set_input_files(
        [str(report), str(page_file)]
    )
    owner.click("#library-upload")
    rows = owner.locator(".upload-row")
    expect(rows.filter(has_text="Q3 report.pdf")).to_contain_text("Stored as PDF")
    expect(rows.filter(has_text="landing.html")).to_contain_text(
        "HTML files are not accepted"
    )
    expect(owner.locator("#upload-list")).to_contain_text("100% of the batch")
    owner.screenshot(path=screenshots / "library-paid.png", full_page=True)
    with db.open_session() as session:
        names = [row.name for row in session.exec(select(Document)).all()]
    assert "Q3 report.pdf" in names
    assert "landing.html" not in names

    row = owner.locator(".library-row", has_text="Q3 report.pdf")
    with owner.expect_download() as download:
        row.get_by_role("button", name="Download").click()
    assert Path(download.value.path()).read_bytes() == report.read_bytes()
    assert download.value.suggested_filename == "Q3 report.pdf"

    row.get_by_role("button", name="Share").click()
    owner.fill("#share-to-email", "lib.partner@example.com")
    owner.click("#share-submit")
    expect(owner.locator("#share-success")).to_contain_text("lib.partner@example.com")

    partner = new_page()
    sign_in(partner, "lib.partner@example.com", "/library")
    partner.wait_for_url(re.compile(r"/library$"))
    shared = partner.locator(".library-row", has_text="Q3 report.pdf")
    expect(shared).to_contain_text("Libby Owner")
    expect(shared.get_by_role("button", name="Share")).to_have_count(0)
    with partner.expect_download() as download:
        shared.get_by_role("button", name="Download").click()
    assert Path(download.value.path()).read_bytes() == report.read_bytes()
    partner.screenshot(path=screenshots / "library-free.png", full_page=True)


def test_tag_a_referred_lead_and_find_it_on_the_tags_page(new_page, screenshots):
    create_account("tagger@example.com", plan=PLAN_FREE, name="Tina Tagger")
    refer_by_service("tagger@example.com", "Vandelay Industries import deal")

    page = new_page()
    sign_in(page, "tagger@example.com", "/referrals")
    page.wait_for_url(re.compile(r"/referrals$"))
    row = page.locator("#referral-table tr", has_text="Vandelay")
    row.locator(".tag-important").click()
    expect(row.locator(".tag-important")).to_have_attribute("aria-pressed", "true")
    page.screenshot(path=screenshots / "referrals-tagged.png", full_page=True)

    page.goto("/tags")
    group = page.locator(".tag-group", has_text="Important")
    expect(group).to_contain_text("Leads")
    expect(group).to_contain_text("Vandelay Industries import deal")
    page.screenshot(path=screenshots / "tags.png", full_page=True)
    group.get_by_role("link", name="Vandelay Industries import deal").click()
    page.wait_for_url(re.compile(r"/referrals/\d+$"))
    with db.open_session() as session:
        record = session.exec(
            select(Record).where(Record.name == "Vandelay Industries import deal")
        ).one()
        assert record.description == ""


def test_a_notification_arrives_live_in_an_open_page(new_page, screenshots):
    create_account("live@example.com", plan=PLAN_FREE, name="Liv Live")

    page = new_page()
    sign_in(page, "live@example.com", "/referrals")
    page.wait_for_url(re.compile(r"/referrals$"))
    expect(page.locator("#bell-count")).to_have_count(0)

    refer_by_service("live@example.com", "Kramerica oil tanker bladder")

    expect(page.locator("#bell-count")).to_have_text("1", timeout=15_000)
    page.screenshot(path=screenshots / "bell-live.png", full_page=True)
    page.click("#bell")
    page.wait_for_url(re.compile(r"/notifications$"))
    expect(page.locator(".notification").first).to_contain_text("Kramerica")
    page.screenshot(path=screenshots / "notifications.png", full_page=True)
    page.locator(".notification").first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/referrals/\d+$"))
    expect(page.locator("#detail-name")).to_have_text("Kramerica oil tanker bladder")
    expect(page.locator("#bell-count")).to_have_count(0, timeout=15_000)


def test_save_as_finds_a_duplicate_then_creates_anyway(new_page, screenshots):
    create_account("saver@example.com", plan=PLAN_PAID, name="Sam Saver")
    with db.open_session() as session:
        saver = session.exec(
            select(User).where(User.email == "saver@example.com")
        ).one()
        session.add(
            Record(
                account_id=saver.account_id,
                created_by_id=saver.id,
                kind="contact",
                name="Elaine Benes",
                company="Pendant Publishing",
                email="elaine@pendant.example",
            )
        )
        session.commit()
        account_id = saver.account_id
    refer_by_service(
        "saver@example.com",
        "Elaine Benes",
        company="J. Peterman",
        email=" ELAINE@pendant.example",
    )

    page = new_page()
    sign_in(page, "saver@example.com", "/referrals")
    page.get_by_role("link", name="Elaine Benes").click()
    page.wait_for_url(re.compile(r"/referrals/\d+$"))
    page.click("#save-as-contact")
    duplicates = page.locator("#save-as-duplicates")
    expect(duplicates).to_contain_text("same e-mail")
    expect(duplicates.get_by_role("link", name="Elaine Benes")).to_have_attribute(
        "href", re.compile(r"/records/\d+")
    )
    page.screenshot(path=screenshots / "save-as-duplicate.png", full_page=True)
    page.click("#save-as-anyway")
    expect(page.locator("#save-as-done")).to_contain_text("Saved as your own contact")
    page.click("#save-as-contact")
    expect(page.locator("#save-as-done")).to_contain_text("saved this referral already")

    with db.open_session() as session:
        copies = session.exec(
            select(Record).where(
                Record.account_id == account_id, Record.name == "Elaine Benes"
            )
        ).all()
        assert len(copies) == 2
        assert sum(1 for row in copies if row.copied_from_referral_id) == 1


def test_free_plan_is_refused_then_upgrading_opens_the_crm(new_page, screenshots):
    create_account("freebie@example.com", plan=PLAN_FREE, name="Fred Free")
    refer_by_service("freebie@example.com", "Monk's Diner franchise")

    page = new_page()
    sign_in(page, "freebie@example.com", "/referrals")
    page.get_by_role("link", name="Monk's Diner franchise").click()
    page.wait_for_url(re.compile(r"/referrals/\d+$"))
    expect(page.locator("#save-as-locked")).to_contain_text("paid plan")
    expect(page.locator("#save-as-contact")).to_have_count(0)
    page.screenshot(path=screenshots / "referral-detail-free.png", full_page=True)

    page.goto("/notifications")
    expect(page.locator("#team-locked")).to_be_visible()
    page.goto("/team")
    expect(page.locator("#team-invite-locked")).to_be_visible()
    page.screenshot(path=screenshots / "team-free.png", full_page=True)

    page.goto("/upgrade")
    page.screenshot(path=screenshots / "upgrade-free.png", full_page=True)
    page.click("#choose-paid")
    expect(page.locator("#plan-success")).to_contain_text("full CRM")
    expect(page.locator("#navigation")).to_contain_text("Leads")
    page.screenshot(path=screenshots / "upgrade-paid.png", full_page=True)
    page.goto("/referrals")
    page.get_by_role("link", name="Monk's Diner franchise").click()
    expect(page.locator("#save-as-lead")).to_be_visible()
    page.screenshot(path=screenshots / "referral-detail-paid.png", full_page=True)

    page.goto("/upgrade")
    page.click("#choose-free")
    expect(page.locator("#navigation")).not_to_contain_text("Leads")


def test_paid_account_adds_a_teammate_who_reads_team_messages(
    new_page, smtp, screenshots
):
    create_account("team.lead@example.com", plan=PLAN_PAID, name="Tess Lead")

    lead = new_page()
    sign_in(lead, "team.lead@example.com", "/team")
    lead.wait_for_url(re.compile(r"/team$"))
    lead.fill("#team-invite-email", "new.member@example.com")
    lead.click("#team-invite")
    expect(lead.locator("#team-sent")).to_contain_text("new.member@example.com")
    expect(lead.locator("#team-pending")).to_contain_text("pending")
    lead.screenshot(path=screenshots / "team-paid.png", full_page=True)

    member = new_page()
    member.goto(invitation_link(smtp, "new.member@example.com"))
    expect(member.get_by_text("invited you to join the team")).to_be_visible()
    member.screenshot(path=screenshots / "invite-team.png", full_page=True)
    member.fill("#register-name", "Max Member")
    member.fill("#register-password", "member password")
    member.fill("#register-password-again", "member password")
    member.click("#register-submit")
    member.wait_for_url(re.compile(r"/notifications$"))
    expect(member.locator("#navigation")).to_contain_text("Leads")

    lead.goto("/notifications")
    lead.fill("#team-body", "Welcome aboard, Max!")
    lead.click("#team-send")
    expect(lead.locator("#team-success")).to_contain_text("Sent to 1 teammate")

    expect(member.locator("#bell-count")).to_have_text("1", timeout=15_000)
    member.reload()
    expect(member.locator(".notification").first).to_contain_text(
        "Tess Lead: Welcome aboard, Max!"
    )
    member.screenshot(path=screenshots / "team-message.png", full_page=True)


def test_vcard_import_then_export_as_csv_and_vcard(new_page, screenshots):
    create_account("exporter@example.com", plan=PLAN_PAID, name="Ezra Export")

    page = new_page()
    sign_in(page, "exporter@example.com", "/import")
    page.wait_for_url(re.compile(r"/import$"))
    page.locator("#csv_upload input[type=file]").set_input_files(
        str(REALDATA / "vcf" / "ezvcard_rfc2426-example.vcf")
    )
    page.click("#import-submit")
    expect(page.locator("#import-summary")).to_contain_text("2 cards")
    page.click("#import-start")
    expect(page.locator("#import-result")).to_contain_text("Imported 2 contacts")

    page.goto("/contacts")
    expect(page.locator("#record-table")).to_contain_text("Frank Dawson")
    with page.expect_download() as download:
        page.click("#export-csv")
    text = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    assert download.value.suggested_filename.startswith("contacts-")
    assert text.splitlines()[0].startswith("Name,Company")
    assert "Frank Dawson" in text and "Tim Howes" in text

    page.fill("#record-search", "howes")
    expect(page.locator("#record-table")).not_to_contain_text("Frank Dawson")
    with page.expect_download() as download:
        page.click("#export-vcf")
    cards = Path(download.value.path()).read_text(encoding="utf-8")
    assert cards.count("BEGIN:VCARD") == 1
    assert "FN:Tim Howes" in cards
    page.screenshot(path=screenshots / "contacts-export.png", full_page=True)
