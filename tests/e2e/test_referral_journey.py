"""The whole journey in Chromium: import, refer, e-mail, register, see it."""

import re

from playwright.sync_api import expect
from sqlmodel import select

from chub_ui import db
from chub_ui.models import User
from tests.conftest import REALDATA, TEST_PASSWORD
from tests.e2e.conftest import OWNER_EMAIL, PARTNER_EMAIL
from tests.e2e.helpers import invitation_link, refer_by_service, sign_in


def test_import_refer_register_and_see_the_record(new_page, smtp, screenshots):
    owner = new_page()
    sign_in(owner, OWNER_EMAIL, "/import")
    owner.wait_for_url(re.compile(r"/import$"))
    owner.screenshot(path=screenshots / "import.png", full_page=True)
    owner.locator("#csv_upload input[type=file]").set_input_files(
        str(REALDATA / "csv" / "krayin_samples_persons.csv")
    )
    owner.click("#import-submit")
    # Sasha's phone is Wilson's with a +1 in front: shown as a duplicate.
    expect(owner.locator("#import-duplicate-list")).to_contain_text("Sasha")
    owner.screenshot(path=screenshots / "import-preview.png", full_page=True)
    owner.select_option("#import-duplicates", "create")
    owner.click("#import-start")
    expect(owner.locator("#import-result")).to_contain_text("Imported 2 contacts")
    owner.screenshot(path=screenshots / "import-done.png", full_page=True)

    owner.goto("/contacts")
    owner.get_by_role("link", name="Wilson Fisk").click()
    owner.wait_for_url(re.compile(r"/records/\d+"))
    expect(owner.locator("#record-name")).to_have_text("Wilson Fisk")
    owner.click("#refer-open")
    owner.fill("#refer-to-email", "  Newbie.Partner@Example.com ")
    owner.fill("#refer-message", "Wilson needs <b>10</b> licences; call him.")
    owner.check("#refer-consent")
    owner.screenshot(path=screenshots / "refer-dialog.png")
    owner.click("#refer-submit")
    expect(owner.locator("#refer-success")).to_contain_text(
        "newbie.partner@example.com"
    )
    owner.screenshot(path=screenshots / "record-referred.png", full_page=True)

    link = invitation_link(smtp, "newbie.partner@example.com")
    invitee = new_page()
    invitee.goto(link)
    expect(invitee.locator("input[name=invited_email]")).to_have_value(
        "newbie.partner@example.com"
    )
    invitee.screenshot(path=screenshots / "invite-register.png", full_page=True)
    invitee.fill("#register-name", "Nina Newbie")
    invitee.fill("#register-password", "a new password")
    invitee.fill("#register-password-again", "a new password")
    invitee.click("#register-submit")

    invitee.wait_for_url(re.compile(r"/referrals/\d+$"))
    expect(invitee.locator("#detail-name")).to_have_text("Wilson Fisk")
    expect(invitee.locator("#detail-message")).to_have_text(
        "Wilson needs <b>10</b> licences; call him."
    )
    expect(invitee.get_by_text("contact.home@wilson.com")).to_be_visible()
    expect(invitee.locator("#navigation")).not_to_contain_text("Leads")
    invitee.screenshot(path=screenshots / "referral-detail.png", full_page=True)

    invitee.goto("/referrals")
    expect(invitee.locator("#referral-table")).to_contain_text("Olivia Owner")
    invitee.fill("#referral-search", "sasha")
    expect(invitee.get_by_text("No referral matches the search.")).to_be_visible()
    invitee.fill("#referral-search", "WILSON")
    expect(invitee.locator("#referral-table")).to_contain_text("Wilson Fisk")
    invitee.screenshot(path=screenshots / "referrals.png", full_page=True)

    owner.reload()
    # The invitee registered and then opened the referral: "viewed".
    expect(owner.locator("#referral-history")).to_contain_text("viewed")
    expect(owner.locator("#referral-history")).to_contain_text("sent")

    invitee.goto(link)
    expect(invitee.locator("#invite-unusable")).to_contain_text("already been used")


def test_existing_user_signs_in_from_the_link_and_lands_on_the_record(
    new_page, smtp, screenshots
):
    refer_by_service(PARTNER_EMAIL, "Initech expansion")
    link = invitation_link(smtp, PARTNER_EMAIL)

    page = new_page()
    page.goto(link)
    expect(page.locator("input[name=invited_email]")).to_have_value(PARTNER_EMAIL)
    page.screenshot(path=screenshots / "invite-login.png", full_page=True)
    page.fill("#invite-login-password", "wrong password")
    page.click("#invite-login-submit")
    expect(page.get_by_text("Wrong e-mail address or password.")).to_be_visible()
    page.fill("#invite-login-password", TEST_PASSWORD)
    page.click("#invite-login-submit")

    page.wait_for_url(re.compile(r"/referrals/\d+$"))
    expect(page.locator("#detail-name")).to_have_text("Initech expansion")


def test_signed_in_as_another_address_is_told_and_nothing_changes(
    new_page, smtp, screenshots
):
    refer_by_service("someone.else@example.com", "Umbrella deal")
    link = invitation_link(smtp, "someone.else@example.com")

    page = new_page()
    sign_in(page, PARTNER_EMAIL)
    page.wait_for_url(re.compile(r"/referrals$"))
    page.goto(link)
    expect(page.locator("#invite-other-user")).to_contain_text(
        "someone.else@example.com"
    )
    page.screenshot(path=screenshots / "invite-other-user.png", full_page=True)

    other = new_page()
    other.goto(link)
    expect(other.locator("#register-password")).to_be_visible()


def test_forged_and_empty_tokens_get_a_clear_page(new_page, screenshots):
    page = new_page()

    page.goto("/invite/this-token-was-never-issued")
    expect(page.locator("#invite-unusable")).to_contain_text("not valid")
    page.screenshot(path=screenshots / "invite-forged.png", full_page=True)

    with db.open_session() as session:
        assert session.exec(select(User)).all()
        users_before = len(session.exec(select(User)).all())
    page.goto("/invite/%20")
    expect(page.locator("#invite-unusable")).to_contain_text("not valid")
    with db.open_session() as session:
        assert len(session.exec(select(User)).all()) == users_before


def test_guard_sends_to_login_and_back_and_keeps_free_accounts_out_of_crm(
    new_page, screenshots
):
    page = new_page()
    page.goto("/referrals?page=1")
    page.wait_for_url(re.compile(r"/login\?next="))
    page.screenshot(path=screenshots / "login.png", full_page=True)
    page.fill("#login-email", PARTNER_EMAIL)
    page.fill("#login-password", TEST_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(re.compile(r"/referrals$"))

    page.goto("/leads")
    page.wait_for_url(re.compile(r"/referrals$"))
    expect(page.locator("#notice")).to_contain_text("paid plan")
    page.screenshot(path=screenshots / "free-plan-refused.png", full_page=True)

    page.goto("/library")
    expect(page.get_by_text("Your library is empty")).to_be_visible()
    page.goto("/tags")
    expect(page.get_by_text("Nothing tagged yet")).to_be_visible()
    page.goto("/notifications")
    expect(page.locator("#team-locked")).to_contain_text("paid plan")
    page.screenshot(path=screenshots / "notifications-free.png", full_page=True)

    page.click("#user-menu")
    page.get_by_text("Sign out").click()
    page.wait_for_url(re.compile(r"/login"))
    page.goto("/referrals")
    page.wait_for_url(re.compile(r"/login\?next="))
