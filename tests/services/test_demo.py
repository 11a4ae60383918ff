"""The demo seed: a CRM user, two partners and referrals in every state."""

from sqlmodel import select

from chub_ui.models import Referral, User
from chub_ui.services import auth, demo, referral_lifecycle


def test_demo_seed_shows_each_referral_state_and_fills_the_dashboard(session):
    assert demo.seed_demo(session=session) is True

    states = sorted(
        referral_lifecycle.referral_state(referral)
        for referral in session.exec(select(Referral))
    )
    assert states == ["declined", "invited", "revoked", "saved", "viewed"]
    owner = session.exec(select(User).where(User.email == demo.DEMO_EMAIL)).one()
    numbers = referral_lifecycle.dashboard(
        session=session, user=auth.current_user_for(session, owner.id), days=30
    )
    assert numbers["totals"]["sent"] == 5
    assert numbers["totals"]["saved"] == 1
    assert sum(day["sent"] for day in numbers["series"]) == 5
    # Spread over several days, so the chart shows a curve and not one spike.
    assert len([day for day in numbers["series"] if day["sent"]]) == 5
    assert demo.seed_demo(session=session) is False


def test_demo_partners_sign_in_with_the_demo_password(session):
    demo.seed_demo(session=session)

    for address in (demo.DEMO_PARTNER_EMAIL, demo.DEMO_RESELLER_EMAIL):
        token = auth.login(session=session, email=address, password=demo.DEMO_PASSWORD)
        assert auth.user_for_token(session, token).email == address
