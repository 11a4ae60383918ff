"""The import page's handlers, called as a browser would call them."""

import pytest
from sqlmodel import func, select

from chub_ui.models import Record
from chub_ui.services import import_jobs
from chub_ui.state import importing as import_state
from chub_ui.state.importing import ImportState
from tests.state.conftest import state_at, token_for

CSV = b"Name,Email,Pet\nAda,ada@example.com,cat\nBob,bad-address,dog\n"


class _Upload:
    """What Reflex hands an upload handler: a name and the bytes."""

    def __init__(self, filename: str, data: bytes) -> None:
        self.filename = filename
        self._data = data

    async def read(self, size: int = -1) -> bytes:
        return self._data if size < 0 else self._data[:size]


async def _upload(state, filename: str, data: bytes) -> None:
    async for _ in ImportState.handle_upload.fn(state, [_Upload(filename, data)]):
        pass


@pytest.fixture
def state(session, paid_user):
    return state_at(ImportState, "/import", token_for(session, paid_user.email))


def _records(session) -> int:
    return session.exec(select(func.count()).select_from(Record)).one()


async def test_upload_shows_the_preview_and_keeps_the_file_private(state, session):
    await _upload(state, "people.csv", CSV)

    assert state.import_error == ""
    assert state.has_preview
    assert state.summary == (
        "people.csv: CSV, UTF-8, comma-separated, 2 rows, 1 with problems."
    )
    assert state.columns == [
        {"index": "0", "title": "Name", "target": "name"},
        {"index": "1", "title": "Email", "target": "email"},
        {"index": "2", "title": "Pet", "target": "extra"},
    ]
    assert state.sample_rows == [
        ["Ada", "ada@example.com", "cat"],
        ["Bob", "bad-address", "dog"],
    ]
    assert state.problems == [
        {"where": "row 3", "reason": "'bad-address' is not a valid e-mail address"}
    ]
    assert state.good_rows == 1
    # The key to the kept file is a backend-only var, never sent to the browser.
    assert state._upload_key
    assert "_upload_key" not in state.get_delta().get(state.get_full_name(), {})
    assert _records(session) == 0


async def test_mapping_change_previews_again_and_bad_ones_change_nothing(state):
    await _upload(state, "people.csv", CSV)

    await ImportState.set_column_target.fn(state, "1", "ignore")

    assert [column["target"] for column in state.columns] == ["name", "ignore", "extra"]
    assert state.problems == []
    for index, target in (("2", "password_hash"), ("0", "city")):
        await ImportState.set_column_target.fn(state, index, target)
        assert state.import_error
        assert [column["target"] for column in state.columns] == [
            "name",
            "ignore",
            "extra",
        ]
    for index in ("99", "-1", None, "1e3", ["0"]):
        await ImportState.set_column_target.fn(state, index, "city")
    assert [column["target"] for column in state.columns] == ["name", "ignore", "extra"]


async def test_duplicate_choice_accepts_only_the_three(state):
    for choice in ("merge", "overwrite", None, "create"):
        ImportState.set_duplicate_choice.fn(state, choice)

    assert state.duplicate_choice == "create"


async def test_import_nothing_drops_the_file_and_writes_nothing(state, session):
    await _upload(state, "people.csv", CSV)
    key = state._upload_key

    await ImportState.import_nothing.fn(state)

    assert not state.has_preview
    assert state.import_result == "Nothing was imported; your data is as it was."
    assert _records(session) == 0
    assert not any((import_state.settings.storage_dir / "imports").glob(key))


async def test_vcard_upload_has_a_fixed_mapping(state):
    data = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada\r\nEMAIL:a@example.com\r\nEND:VCARD\r\n"
    )

    await _upload(state, "ada.vcf", data)

    assert state.mapping_fixed
    assert state.summary == "ada.vcf: vCard, UTF-8, 1 card."
    await ImportState.set_column_target.fn(state, "0", "city")
    assert state.columns[0]["target"] == "name"


def test_import_in_thread_uses_the_kept_file_and_drops_it(state, session, paid_user):
    key = import_jobs.keep_upload(user=paid_user, data=CSV)

    outcome = import_state._import_in_thread(
        state.session_token,
        key,
        filename="people.csv",
        kind="contact",
        mapping=None,
        duplicates="skip",
        only_good_rows=True,
        on_progress=None,
    )

    assert (outcome.created, len(outcome.failed)) == (1, 1)
    assert _records(session) == 1
    with pytest.raises(import_jobs.NotAllowed):
        import_jobs.read_upload(user=paid_user, key=key)


async def test_signed_out_upload_is_refused(session):
    state = state_at(ImportState, "/import", "no-such-token")

    await _upload(state, "people.csv", CSV)

    assert state.import_error == "Please sign in to continue."
    assert not state.has_preview


@pytest.mark.parametrize(
    ("good", "duplicates", "choice", "noun", "expected"),
    [
        (1, 0, "skip", "row", "Import 1 row"),
        (3, 0, "skip", "good row", "Import 3 good rows"),
        (3, 1, "skip", "row", "Import 2 rows and skip 1 duplicate"),
        (3, 2, "merge", "good row", "Import 1 good row and merge 2 duplicates"),
        (3, 2, "create", "row", "Import 3 rows"),
        (2, 2, "skip", "card", "Skip 2 duplicates"),
        (1, 1, "merge", "card", "Merge 1 duplicate"),
    ],
)
def test_import_label_counts_what_will_be_created(
    good, duplicates, choice, noun, expected
):
    assert import_state.import_label(good, duplicates, choice, noun) == expected


async def test_import_buttons_leave_skipped_duplicates_out(state):
    data = (
        b"Name,Email\nAda,ada@example.com\nBob,bad-address\n"
        b"Ada again,ada@example.com\nCy,cy@example.com\n"
    )

    await _upload(state, "people.csv", data)

    assert (state.good_rows, state.duplicate_count) == (3, 1)
    assert state.problems_heading == "1 row cannot be imported:"
    assert state.duplicates_heading == (
        "1 row repeats a record you have or an earlier row:"
    )
    assert state.import_good_label == "Import 2 good rows and skip 1 duplicate"
    ImportState.set_duplicate_choice.fn(state, "merge")
    assert state.import_good_label == "Import 2 good rows and merge 1 duplicate"
    ImportState.set_duplicate_choice.fn(state, "create")
    assert state.import_good_label == "Import 3 good rows"


async def test_vcard_labels_speak_of_cards(state):
    card = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada\r\nEMAIL:a@example.com\r\nEND:VCARD\r\n"
    )

    await _upload(state, "ada.vcf", (card * 2).encode())

    assert state.import_all_label == "Import 1 card and skip 1 duplicate"
    assert state.duplicates_heading == (
        "1 card repeats a record you have or an earlier card:"
    )
    state.rows_done, state.rows_total = 0, 1
    assert state.progress_text == "0 of 1 card"
