"""Speed of the server-side lists and the CSV import, at 1,000 and 100,000 rows.

Run with `make bench`. Each number is the median of several runs in one
process; compare the ratios printed, not absolute times between machines.
"""

import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, create_engine

import chub_ui.db
import chub_ui.models
from chub_ui.models import KIND_CONTACT, PLAN_FREE, PLAN_PAID, Record, Referral
from chub_ui.services import auth, importing, records, referrals, tags

logger = logging.getLogger(__name__)

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
SIZES = (1_000, 100_000)
RUNS = 7


def _median_ms(action) -> float:
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def _seed(session: Session, size: int):
    owner = auth.create_user(
        session=session, email="owner@example.com", password="benchmark", plan=PLAN_PAID
    )
    partner = auth.create_user(
        session=session, email="partner@example.com", password="benchmark",
        plan=PLAN_FREE,
    )  # fmt: skip
    session.commit()
    rows = [
        {
            "account_id": owner.account_id,
            "created_by_id": owner.id,
            "kind": KIND_CONTACT,
            "name": f"Person {number:06d}",
            "company": f"Company {number % 997}",
            "email": f"person{number}@example.com",
            "source": f"Source {number % 20}",
            "extra_json": "{}",
            "created_at": chub_ui.models.utcnow(),
        }
        for number in range(size)
    ]
    session.execute(sa.insert(Record), rows)
    session.commit()
    ids = session.exec(sa.select(Record.id).order_by(Record.id)).scalars().all()
    session.execute(
        sa.insert(Referral),
        [
            {
                "record_id": record_id,
                "referrer_id": owner.id,
                "recipient_email": "partner@example.com",
                "recipient_id": partner.id,
                "message": "",
                "created_at": chub_ui.models.utcnow(),
            }
            for record_id in ids[: size // 10]
        ],
    )
    session.commit()
    return (
        auth.current_user_for(session, owner.id),
        auth.current_user_for(session, partner.id),
        ids,
    )


def measure(size: int) -> dict[str, float]:
    """Time each list at one size, in a fresh database."""
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{folder}/bench.db")
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            owner, partner, ids = _seed(session, size)
            for record_id in ids[:200]:
                tags.set_tag(
                    session=session, user=owner, item_type="record",
                    item_id=record_id, value="important",
                )  # fmt: skip
            last_page = -(-size // records.PAGE_SIZE)
            results = {
                "records, first page": _median_ms(
                    lambda: records.list_records(
                        session=session, user=owner, kind=KIND_CONTACT
                    )
                ),
                "records, last page": _median_ms(
                    lambda: records.list_records(
                        session=session, user=owner, kind=KIND_CONTACT,
                        page=last_page,
                    )
                ),
                "records, search": _median_ms(
                    lambda: records.list_records(
                        session=session, user=owner, kind=KIND_CONTACT,
                        search="company 42",
                    )
                ),
                "records, by name": _median_ms(
                    lambda: records.list_records(
                        session=session, user=owner, kind=KIND_CONTACT,
                        sort="name_asc",
                    )
                ),
                "records, source + company sort": _median_ms(
                    lambda: records.list_records(
                        session=session, user=owner, kind=KIND_CONTACT,
                        source="Source 3", sort="company_desc",
                    )
                ),
                "records, referred, important": _median_ms(
                    lambda: records.list_records(
                        session=session, user=owner, kind=KIND_CONTACT,
                        referred="yes", tag="important",
                    )
                ),
                "referred to me, first page": _median_ms(
                    lambda: referrals.list_referred_to_me(session=session, user=partner)
                ),
                "referred to me, search": _median_ms(
                    lambda: referrals.list_referred_to_me(
                        session=session, user=partner, search="person 0001"
                    )
                ),
                "tags overview (200 tags)": _median_ms(
                    lambda: tags.tag_overview(session=session, user=owner)
                ),
            }  # fmt: skip
        engine.dispose()
    return results


def measure_import() -> float:
    """Time importing the 423 Salesforce accounts, each run in a fresh database."""
    data = (REALDATA / "csv" / "sfdc_dataloader_accountData.csv").read_bytes()
    timings = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as folder:
            engine = create_engine(f"sqlite:///{folder}/bench.db")
            SQLModel.metadata.create_all(engine)
            with Session(engine) as session:
                owner = auth.create_user(
                    session=session, email="o@example.com", password="benchmark",
                    plan=PLAN_PAID,
                )  # fmt: skip
                session.commit()
                user = auth.current_user_for(session, owner.id)
                started = time.perf_counter()
                importing.import_records(
                    session=session, user=user, data=data, kind=KIND_CONTACT
                )
                timings.append((time.perf_counter() - started) * 1000)
            engine.dispose()
    return statistics.median(timings)


def main() -> int:
    """Print a table of medians and the 100,000 / 1,000 ratio of each."""
    logging.basicConfig(level=logging.WARNING)
    by_size = {size: measure(size) for size in SIZES}
    small, large = by_size[SIZES[0]], by_size[SIZES[-1]]
    sys.stdout.write(
        f"{'operation':32} {'1,000 rows':>12} {'100,000 rows':>14} {'ratio':>7}\n"
    )
    for name in small:
        ratio = large[name] / small[name] if small[name] else float("nan")
        sys.stdout.write(
            f"{name:32} {small[name]:10.2f}ms {large[name]:12.2f}ms {ratio:7.1f}\n"
        )
    sys.stdout.write(
        f"{'CSV import, 423 Salesforce rows':32} {measure_import():10.2f}ms\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
