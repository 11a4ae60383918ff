"""Command line set-up: `python -m chub_ui.manage migrate|seed|setup`."""

import argparse
import logging

from chub_ui import db
from chub_ui.services import demo
from chub_ui.settings import settings

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    """Apply migrations and, in demo mode, seed an empty database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["migrate", "seed", "setup"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    if args.action in {"migrate", "setup"}:
        db.migrate()
    if args.action == "seed" or (args.action == "setup" and settings.demo_mode):
        with db.open_session() as session:
            if not demo.seed_demo(session=session):
                logger.info("users exist already: the demo seed was skipped")
            else:
                logger.warning(
                    "Demo login: %s / %s", demo.DEMO_EMAIL, demo.DEMO_PASSWORD
                )


if __name__ == "__main__":
    main()
