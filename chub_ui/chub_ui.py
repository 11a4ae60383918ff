"""Builds the Reflex app: pages, API routes and lifespan tasks."""

import logging

import reflex as rx

from chub_ui import routes
from chub_ui.api import api
from chub_ui.pages.audit import audit_page
from chub_ui.pages.dashboard import dashboard_page
from chub_ui.pages.importing import import_page
from chub_ui.pages.invite import invite_page
from chub_ui.pages.library import library_page
from chub_ui.pages.login import login_page
from chub_ui.pages.mailbox import mailbox_page
from chub_ui.pages.modules import home_page
from chub_ui.pages.notifications import notifications_page
from chub_ui.pages.records import contacts_page, leads_page, record_page
from chub_ui.pages.referrals import referral_detail_page, referrals_page
from chub_ui.pages.sent import sent_detail_page, sent_page
from chub_ui.pages.tags import tags_page
from chub_ui.pages.team import team_page
from chub_ui.pages.upgrade import upgrade_page
from chub_ui.services.library import storage_sweeper
from chub_ui.services.mail import outbox_worker
from chub_ui.state.audit import AuditState
from chub_ui.state.auth import AuthState
from chub_ui.state.dashboard import DashboardState
from chub_ui.state.demo import DemoMailboxState
from chub_ui.state.importing import ImportState
from chub_ui.state.invitations import InvitationState
from chub_ui.state.library import LibraryState
from chub_ui.state.notifications import NotificationsState
from chub_ui.state.plans import PlansState
from chub_ui.state.records import RecordsState
from chub_ui.state.referrals import ReferralsState
from chub_ui.state.sent import SentState, SentTimelineState
from chub_ui.state.session import SessionState
from chub_ui.state.tags import TagsState

logging.basicConfig(
    level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
)
logger = logging.getLogger(__name__)

app = rx.App(api_transformer=api)
app.add_page(
    home_page,
    route=routes.HOME,
    title="Partner Network",
    on_load=SessionState.open_home,
)
app.add_page(
    login_page,
    route=routes.LOGIN,
    title="Sign in · Partner Network",
    on_load=AuthState.load_login,
)
app.add_page(
    invite_page,
    route=routes.INVITE,
    title="Invitation · Partner Network",
    on_load=InvitationState.load_invitation,
)
app.add_page(
    referrals_page,
    route=routes.REFERRALS,
    title="Referral",
    on_load=ReferralsState.load_referrals,
)
app.add_page(
    referral_detail_page,
    route=routes.REFERRAL_DETAIL,
    title="Referral",
    on_load=ReferralsState.load_detail,
)
app.add_page(
    leads_page, route=routes.LEADS, title="Leads", on_load=RecordsState.load_leads
)
app.add_page(
    contacts_page,
    route=routes.CONTACTS,
    title="Contacts",
    on_load=RecordsState.load_contacts,
)
app.add_page(
    record_page,
    route=routes.RECORD_DETAIL,
    title="Record",
    on_load=RecordsState.load_record,
)
app.add_page(
    import_page, route=routes.IMPORT, title="Import", on_load=ImportState.load_import
)
app.add_page(
    library_page,
    route=routes.LIBRARY,
    title="Library",
    on_load=LibraryState.load_library,
)
app.add_page(tags_page, route=routes.TAGS, title="Tags", on_load=TagsState.load_tags)
app.add_page(
    notifications_page,
    route=routes.NOTIFICATIONS,
    title="Notifications",
    on_load=NotificationsState.load_notifications,
)
app.add_page(
    upgrade_page, route=routes.UPGRADE, title="Plans", on_load=PlansState.load_plans
)
app.add_page(team_page, route=routes.TEAM, title="Team", on_load=PlansState.load_team)
app.add_page(
    mailbox_page,
    route=routes.DEMO_MAILBOX,
    title="Demo mailbox",
    on_load=DemoMailboxState.load_mailbox,
)
app.add_page(
    sent_page, route=routes.SENT, title="Sent referrals", on_load=SentState.load_sent
)
app.add_page(
    sent_detail_page,
    route=routes.SENT_DETAIL,
    title="Sent referral",
    on_load=SentTimelineState.load_timeline,
)
app.add_page(
    dashboard_page,
    route=routes.DASHBOARD,
    title="Dashboard",
    on_load=DashboardState.load_dashboard,
)
app.add_page(
    audit_page, route=routes.AUDIT, title="Audit", on_load=AuditState.load_audit
)
app.register_lifespan_task(outbox_worker)
app.register_lifespan_task(storage_sweeper)
