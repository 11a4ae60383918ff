"""State of the referrer's dashboard: totals, a chart per day and top lists."""

import logging

import reflex as rx

from chub_ui.services import referral_lifecycle
from chub_ui.services.errors import ServiceError
from chub_ui.state.session import SessionState

logger = logging.getLogger(__name__)

PAID_ONLY_NOTICE = (
    "The dashboard belongs to the full CRM on the paid plan. Your Partner's "
    "Network shows what partners refer to you."
)

# The periods the page offers, in days; the service accepts 7 to 365.
PERIODS = ("7", "30", "90")
DEFAULT_PERIOD = "30"
EMPTY_TOTALS = {"sent": 0, "accepted": 0, "viewed": 0, "saved": 0, "declined": 0}


class DashboardState(SessionState):
    """What the account's referrals became over the chosen period."""

    days: str = DEFAULT_PERIOD
    totals: dict[str, int] = EMPTY_TOTALS
    series: list[dict] = []
    top_partners: list[dict] = []
    top_records: list[dict] = []
    dashboard_error: str = ""
    is_loading: bool = True

    @rx.var
    def has_referrals(self) -> bool:
        """Whether anything was sent in the period."""
        return self.totals.get("sent", 0) > 0

    def _load_dashboard(self):
        with rx.session() as session:
            user, redirect = self._user_or_redirect(
                session, paid_notice=PAID_ONLY_NOTICE
            )
            if redirect is not None:
                return redirect
            try:
                numbers = referral_lifecycle.dashboard(
                    session=session, user=user, days=int(self.days)
                )
            except ServiceError as error:
                self.dashboard_error = error.message
                self.is_loading = False
                return None
        self.totals = {name: numbers["totals"].get(name, 0) for name in EMPTY_TOTALS}
        self.series = numbers["series"]
        self.top_partners = numbers["top_partners"]
        self.top_records = numbers["top_records"]
        self.dashboard_error, self.is_loading = "", False
        return None

    @rx.event
    def load_dashboard(self):
        """Open the dashboard on the default period."""
        self.days, self.is_loading = DEFAULT_PERIOD, True
        return self._load_dashboard()

    @rx.event
    def set_days(self, days: str):
        """Show another period; anything but the offered ones means the default."""
        self.days = days if days in PERIODS else DEFAULT_PERIOD
        return self._load_dashboard()
