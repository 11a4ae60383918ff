"""The library: file checks, storage that leaves nothing behind, lists and access."""

import io
import os
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from chub_ui.models import (
    PLAN_FREE,
    Document,
    Invitation,
    OutboxMessage,
    Referral,
    utcnow,
)
from chub_ui.services import auth, invitations, library, referrals
from chub_ui.services.errors import InvalidInput, NotAllowed
from chub_ui.settings import settings
from tests.conftest import TEST_PASSWORD

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(64)


def _zip(entries: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _ooxml(folder: str, part: str) -> bytes:
    return _zip(
        {
            "[Content_Types].xml": '<?xml version="1.0"?><Types/>',
            "_rels/.rels": '<?xml version="1.0"?><Relationships/>',
            f"{folder}/{part}": '<?xml version="1.0"?><root/>',
        }
    )


def _ole(stream_name: str) -> bytes:
    return OLE_MAGIC + bytes(504) + stream_name.encode("utf-16-le") + bytes(64)


@pytest.fixture
def storage(tmp_path: Path, monkeypatch) -> Path:
    """A storage folder of the test's own, set as CHUB_STORAGE_DIR."""
    folder = tmp_path / "storage"
    monkeypatch.setattr(settings, "storage_dir", folder)
    return folder


def _files(storage: Path, folder: str) -> list[Path]:
    path = storage / folder
    return sorted(path.iterdir()) if path.exists() else []


def _assert_nothing_stored(session, storage: Path) -> None:
    assert session.exec(select(Document)).all() == []
    assert _files(storage, "files") == []
    assert _files(storage, "tmp") == []


def _store(session, user, name="report.pdf", data=PDF) -> dict:
    return library.store_document(session=session, user=user, name=name, data=data)


# Names


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "no name"),
        ("   ", "no name"),
        ("../secret.pdf", "folder parts"),
        ("reports/q1.pdf", "folder parts"),
        ("reports\\q1.pdf", "folder parts"),
        ("..", "folder parts"),
        ("C:evil.pdf", "drive letter"),
        ("line\nbreak.pdf", "control characters"),
        ("tab\there.pdf", "control characters"),
        ("nul\x00.pdf", "control characters"),
        ("bell\x07.pdf", "control characters"),
        ("delete\x7f.pdf", "control characters"),
        ("invoice\u202efdp.exe", "right-to-left"),
        ("isolate\u2066.pdf", "right-to-left"),
        ("mark\u200f.pdf", "right-to-left"),
        ("arabic\u061c.pdf", "right-to-left"),
        ("a" * 252 + ".pdf", "255 bytes"),
        ("é" * 128, "255 bytes"),
        ("broken\ud800.pdf", "cannot be stored"),
        ("paragraph\u2029.pdf", "control characters"),
        ("next-line\x85.pdf", "control characters"),
    ],
)
def test_bad_name_is_refused_and_nothing_is_stored(
    session, storage, paid_user, name, message
):
    with pytest.raises(InvalidInput, match=message):
        _store(session, paid_user, name=name)

    _assert_nothing_stored(session, storage)


def test_name_is_trimmed_and_may_use_all_255_bytes():
    longest = "a" * 251 + ".pdf"

    assert library.check_document_name("  Offer 2025 (final).pdf \u00a0") == (
        "Offer 2025 (final).pdf"
    )
    assert library.check_document_name(longest) == longest
    assert library.check_document_name("Résumé.pdf") == "Résumé.pdf"


# Contents


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.pdf", b"", "The file is empty"),
        ("noise.bin", bytes(range(256)) * 4, "This file type is not accepted"),
        ("latin1.txt", "Grüße aus Köln".encode("latin-1"), "not accepted"),
        ("page.html", b"<!DOCTYPE html><html><body>hi</body></html>", "HTML"),
        (
            "page.txt",
            b"\xef\xbb\xbf\n  <!-- saved page -->\n<HTML><script>x()</script>",
            "HTML files are not accepted",
        ),
        ("script.txt", b"<script>alert(1)</script>", "HTML files are not accepted"),
        ("snippet.txt", b'<div class="x">\n<p>Hi</p></div>', "HTML files are not"),
        ("frame.csv", b"<iframe src=x>,a\n1,2\n", "HTML files are not accepted"),
        (
            "logo.svg",
            b'<?xml version="1.0"?>\n<!-- logo -->\n<svg xmlns="x"></svg>',
            "SVG images are not accepted",
        ),
        (
            "logo.png",
            b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN">\n<svg/>',
            "SVG images are not accepted",
        ),
        (
            "logo.xml",
            "<?xml version='1.0'?><a><svg onload='x()'/></a>".encode("utf-16"),
            "SVG images are not accepted",
        ),
        ("invoice.pdf", EXE, "Windows programs are not accepted"),
        ("tool.pdf", b"\x7fELF\x02\x01\x01" + bytes(32), "Linux programs"),
        ("photos.zip", _zip({"a.jpg": "x"}), "ZIP archives are not accepted"),
        ("broken.docx", b"PK\x03\x04" + bytes(40), "cannot be read"),
        ("setup.doc", _ole("SummaryInformation"), "not a Word, Excel or"),
        ("backup.gz", b"\x1f\x8b\x08\x00" + bytes(20), "gzip archives"),
    ],
)
def test_refused_content_says_why_and_stores_nothing(
    session, storage, paid_user, name, data, message
):
    with pytest.raises(InvalidInput, match=message):
        _store(session, paid_user, name=name, data=data)

    _assert_nothing_stored(session, storage)


@pytest.mark.parametrize("data", [bytes(range(256)), EXE, _zip({"a.txt": "x"})])
def test_refusal_of_a_type_names_the_allowed_ones(data):
    with pytest.raises(InvalidInput) as refusal:
        library.sniff_type(data)

    assert str(refusal.value).endswith(
        "not accepted: allowed are PDF, images, text, CSV and Office documents."
    )


@pytest.mark.parametrize(
    ("name", "data", "content_type", "label"),
    [
        ("scan.txt", PDF, "application/pdf", "PDF"),
        ("photo.pdf", PNG, "image/png", "Image"),
        ("photo.jpg", JPEG, "image/jpeg", "Image"),
        ("anim.gif", GIF, "image/gif", "Image"),
        ("pic.webp", WEBP, "image/webp", "Image"),
        (
            "offer.docx",
            _ooxml("word", "document.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "Word",
        ),
        (
            "numbers",
            _ooxml("xl", "workbook.xml"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Excel",
        ),
        (
            "deck.pptx",
            _ooxml("ppt", "presentation.xml"),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "PowerPoint",
        ),
        (
            "notes.odt",
            _zip(
                {
                    "mimetype": "application/vnd.oasis.opendocument.text",
                    "content.xml": "<office:document-content/>",
                }
            ),
            "application/vnd.oasis.opendocument.text",
            "OpenDocument",
        ),
        ("old.doc", _ole("WordDocument"), "application/msword", "Word"),
        ("old.xls", _ole("Workbook"), "application/vnd.ms-excel", "Excel"),
        (
            "old.ppt",
            _ole("PowerPoint Document"),
            "application/vnd.ms-powerpoint",
            "PowerPoint",
        ),
        (
            "contacts.txt",
            b'name,email,city\n"Fisk, Wilson",w@fisk.example,NYC\nKaren,k@x.io,LA\n',
            "text/csv; charset=utf-8",
            "CSV",
        ),
        (
            "export.csv",
            "Name;Stadt\nJürgen;Köln\nAnna;Berlin\n".encode("utf-8-sig"),
            "text/csv; charset=utf-8",
            "CSV",
        ),
        ("tabs.tsv", b"a\tb\tc\n1\t2\t3\n4\t5\t6\n", "text/csv; charset=utf-8", "CSV"),
        (
            "readme.csv",
            b"Meeting notes\n\nCall the partner on Monday.\nSend the offer.\n",
            "text/plain; charset=utf-8",
            "Text",
        ),
        (
            "windows.txt",
            "Notes from Zürich\r\nSecond line\r\n".encode("utf-16"),
            "text/plain; charset=utf-16",
            "Text",
        ),
        ("x.txt", b"a < b and <b> is bold\n", "text/plain; charset=utf-8", "Text"),
    ],
)
def test_type_is_decided_by_content_not_name(
    session, storage, paid_user, name, data, content_type, label
):
    item = _store(session, paid_user, name=name, data=data)

    document = session.get(Document, item["id"])
    assert (document.content_type, document.type_label) == (content_type, label)
    assert item["type_label"] == label
    assert document.name == name
    assert (storage / "files" / document.stored_name).read_bytes() == data
    assert _files(storage, "tmp") == []


def test_text_is_checked_beyond_the_first_bytes(tmp_path):
    looks_like_text = tmp_path / "mixed.txt"
    looks_like_text.write_bytes(b"plain words\n" * 10_000 + b"\x00\x01binary")
    long_text = tmp_path / "long.txt"
    long_text.write_bytes("Grüße, Köln\n".encode() * 10_000)

    with pytest.raises(InvalidInput, match="not accepted"):
        library.sniff_file(looks_like_text)
    assert library.sniff_file(long_text) == ("text/csv; charset=utf-8", "CSV")


def test_stored_document_keeps_size_and_checksum(session, storage, paid_user):
    item = _store(session, paid_user, data=PDF)

    document = session.get(Document, item["id"])
    assert document.size_bytes == len(PDF) == item["size_bytes"]
    assert len(document.sha256) == 64
    assert document.owner_id == paid_user.id
    assert document.account_id == paid_user.account_id
    assert len(document.stored_name) == 32
    assert item["is_own"] and item["referral_id"] == 0 and item["shared_by"] == ""


def test_human_sizes():
    assert library.human_size(0) == "0 bytes"
    assert library.human_size(1) == "1 byte"
    assert library.human_size(1536) == "1.5 KB"
    assert library.human_size(1_258_291) == "1.2 MB"
    assert library.human_size(25 * 1024 * 1024) == "25 MB"
    assert library.human_size(1024**3) == "1 GB"


# Limits and interrupted uploads


def test_default_limits_come_from_the_settings():
    assert settings.document_max_bytes == 25 * 1024 * 1024
    assert settings.account_quota_bytes == 1024**3


def test_file_over_the_size_limit_is_refused_while_it_arrives(
    session, storage, paid_user, monkeypatch
):
    monkeypatch.setattr(settings, "document_max_bytes", 2 * 1024 * 1024)
    upload = library.start_upload(user=paid_user, name="big.pdf")
    upload.write(PDF)
    upload.write(b"x" * (2 * 1024 * 1024 - len(PDF)))

    with pytest.raises(InvalidInput, match="larger than 2 MB"):
        upload.write(b"x")

    _assert_nothing_stored(session, storage)
    with pytest.raises(InvalidInput, match="already ended"):
        upload.write(b"x")
    with pytest.raises(InvalidInput, match="already ended"):
        upload.finish(session=session)
    _assert_nothing_stored(session, storage)


def test_size_limit_message_names_the_default_limit(
    session, storage, paid_user, monkeypatch
):
    upload = library.start_upload(user=paid_user, name="huge.pdf")
    monkeypatch.setattr(upload, "size_bytes", settings.document_max_bytes)

    with pytest.raises(InvalidInput, match="larger than 25 MB"):
        upload.write(b"x")

    _assert_nothing_stored(session, storage)


def test_upload_over_the_account_quota_is_refused(
    session, storage, paid_user, monkeypatch
):
    monkeypatch.setattr(settings, "account_quota_bytes", 100)
    _store(session, paid_user, name="first.txt", data=b"a" * 60)

    with pytest.raises(InvalidInput, match="over its 100 bytes of storage"):
        _store(session, paid_user, name="second.txt", data=b"b" * 41)

    assert [d.name for d in session.exec(select(Document)).all()] == ["first.txt"]
    assert len(_files(storage, "files")) == 1
    assert _files(storage, "tmp") == []
    _store(session, paid_user, name="fits.txt", data=b"c" * 40)


def test_quota_is_per_account(session, storage, paid_user, free_user, monkeypatch):
    monkeypatch.setattr(settings, "account_quota_bytes", 100)
    _store(session, paid_user, name="mine.txt", data=b"a" * 90)

    _store(session, free_user, name="theirs.txt", data=b"b" * 90)

    assert len(session.exec(select(Document)).all()) == 2


def test_two_uploads_with_one_name_keep_both(session, storage, paid_user):
    first = _store(session, paid_user, name="offer.pdf", data=PDF)
    second = _store(session, paid_user, name="offer.pdf", data=PDF + b"% v2\n")

    rows = session.exec(select(Document)).all()
    assert first["id"] != second["id"]
    assert [row.name for row in rows] == ["offer.pdf", "offer.pdf"]
    assert len({row.stored_name for row in rows}) == 2
    assert len(_files(storage, "files")) == 2


def test_aborted_upload_leaves_neither_row_nor_file(session, storage, paid_user):
    upload = library.start_upload(user=paid_user, name="half.pdf")
    upload.write(PDF[:10])
    assert len(_files(storage, "tmp")) == 1

    upload.abort()

    _assert_nothing_stored(session, storage)


def test_connection_lost_mid_upload_leaves_nothing(session, storage, paid_user):
    def chunks_then_disconnect():
        yield PDF[:10]
        raise ConnectionResetError("browser went away")

    upload = library.start_upload(user=paid_user, name="cut.pdf")
    with pytest.raises(ConnectionResetError):
        try:
            for chunk in chunks_then_disconnect():
                upload.write(chunk)
        finally:
            if not upload.is_done:
                upload.abort()

    _assert_nothing_stored(session, storage)


def test_failure_after_the_rename_removes_the_file_and_the_row(
    session, storage, paid_user, monkeypatch
):
    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(session, "commit", fail)

    with pytest.raises(RuntimeError):
        _store(session, paid_user)

    monkeypatch.undo()
    _assert_nothing_stored(session, storage)


def test_failing_write_removes_the_temporary_file(
    session, storage, paid_user, monkeypatch
):
    upload = library.start_upload(user=paid_user, name="disk.pdf")

    def disk_full(data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(upload._stream, "write", disk_full)
    with pytest.raises(OSError, match="No space"):
        upload.write(PDF)

    _assert_nothing_stored(session, storage)


def test_sweep_removes_old_leftovers_only(session, storage, paid_user):
    kept = _store(session, paid_user)
    part = storage / "tmp" / "0123abcd.part"
    part.write_bytes(b"half an upload")
    orphan = storage / "files" / ("ab" * 16)
    orphan.write_bytes(PDF)
    fresh = storage / "files" / ("cd" * 16)
    fresh.write_bytes(PDF)
    an_hour_ago = time.time() - 3600
    for path in (part, orphan):
        os.utime(path, (an_hour_ago, an_hour_ago))

    removed = library.sweep_storage(session=session)

    assert removed == 2
    assert not part.exists() and not orphan.exists()
    assert fresh.exists()
    stored = session.get(Document, kept["id"]).stored_name
    assert (storage / "files" / stored).exists()
    assert library.sweep_storage(session=session, min_age=timedelta(0)) == 1
    assert not fresh.exists()
    assert (storage / "files" / stored).exists()


def test_sweep_of_a_missing_folder_removes_nothing(session, storage):
    assert library.sweep_storage(session=session) == 0


# The library list


@pytest.fixture
def shared(session, storage, paid_user, free_user) -> dict:
    """A document of the paid user referred to the free user."""
    item = _store(session, paid_user, name="Price list 2025.pdf")
    outcome = referrals.refer_document(
        session=session,
        user=paid_user,
        document_id=item["id"],
        to_email=free_user.email,
        message="Current prices",
    )
    return {**item, "referral_id": outcome.referral_id}


def test_library_lists_own_and_referred_documents(session, storage, shared, free_user):
    own = _store(session, free_user, name="My notes.txt", data=b"call back\n")

    page = library.list_library(session=session, user=free_user)

    assert page.total == 2
    assert [item["name"] for item in page.items] == [
        "My notes.txt",
        "Price list 2025.pdf",
    ]
    mine, referred = page.items
    assert mine["id"] == own["id"] and mine["is_own"] and mine["shared_by"] == ""
    assert referred["shared_by"] == "Olivia Owner"
    assert not referred["is_own"]
    assert referred["referral_id"] == shared["referral_id"]
    assert referred["type_label"] == "PDF"
    assert referred["size"] == f"{len(PDF)} bytes"
    assert len(referred["date"]) == len("2025-01-01 12:00")


def test_library_of_the_referrer_lists_only_their_own(
    session, storage, shared, paid_user
):
    page = library.list_library(session=session, user=paid_user)

    assert [item["name"] for item in page.items] == ["Price list 2025.pdf"]
    assert page.items[0]["is_own"]


def test_library_is_searched_filtered_and_paged(session, storage, free_user):
    for number in range(23):
        data = PDF if number % 2 else f"note {number}\n".encode()
        _store(session, free_user, name=f"File_{number:02d}", data=data)
    _store(session, free_user, name="Discount 10%.txt", data=b"x\n")

    first = library.list_library(session=session, user=free_user)
    second = library.list_library(session=session, user=free_user, page=2)
    too_far = library.list_library(session=session, user=free_user, page=99)
    search = library.list_library(session=session, user=free_user, search="file_1")
    percent = library.list_library(session=session, user=free_user, search="0%")
    wildcard = library.list_library(session=session, user=free_user, search="_")
    pdfs = library.list_library(session=session, user=free_user, type_label="PDF")
    texts = library.list_library(
        session=session, user=free_user, search="FILE", type_label="Text"
    )

    assert first.total == 24 and first.pages == 2
    assert len(first.items) == 20 and len(second.items) == 4
    assert first.items[0]["name"] == "Discount 10%.txt"
    assert too_far.page == 2
    assert search.total == 10
    assert [item["name"] for item in percent.items] == ["Discount 10%.txt"]
    assert wildcard.total == 23
    assert pdfs.total == 11
    assert {item["type_label"] for item in pdfs.items} == {"PDF"}
    assert texts.total == 12


def test_unknown_type_filter_is_refused(session, free_user):
    with pytest.raises(InvalidInput):
        library.list_library(session=session, user=free_user, type_label="EXE")


def test_type_labels_cover_every_stored_label():
    assert library.type_labels() == [
        "PDF",
        "Image",
        "Text",
        "CSV",
        "Word",
        "Excel",
        "PowerPoint",
        "OpenDocument",
    ]


# Who may download and refer


def test_stranger_cannot_download_or_refer_a_document(
    session, storage, shared, make_user
):
    stranger = make_user("stranger@example.com", plan=PLAN_FREE)

    with pytest.raises(NotAllowed) as foreign:
        library.document_for_download(
            session=session, user=stranger, document_id=shared["id"]
        )
    with pytest.raises(NotAllowed) as missing:
        library.document_for_download(
            session=session, user=stranger, document_id=shared["id"] + 100
        )
    with pytest.raises(NotAllowed):
        referrals.refer_document(
            session=session,
            user=stranger,
            document_id=shared["id"],
            to_email="friend@example.com",
        )
    with pytest.raises(NotAllowed):
        referrals.document_referral_history(
            session=session, user=stranger, document_id=shared["id"]
        )

    assert str(foreign.value) == str(missing.value)
    assert library.list_library(session=session, user=stranger).total == 0
    assert len(session.exec(select(Referral)).all()) == 1


def test_owner_and_recipient_can_download(
    session, storage, shared, paid_user, free_user
):
    for user in (paid_user, free_user):
        path, document = library.document_for_download(
            session=session, user=user, document_id=shared["id"]
        )
        assert path.read_bytes() == PDF
        assert document["name"] == "Price list 2025.pdf"
        assert document["content_type"] == "application/pdf"


def test_recipient_cannot_refer_a_document_onward(session, storage, shared, free_user):
    with pytest.raises(NotAllowed):
        referrals.refer_document(
            session=session,
            user=free_user,
            document_id=shared["id"],
            to_email="third@example.com",
        )

    assert len(session.exec(select(Referral)).all()) == 1


def test_free_partner_refers_their_own_document(session, storage, free_user):
    item = _store(session, free_user, name="Brochure.pdf")

    outcome = referrals.refer_document(
        session=session,
        user=free_user,
        document_id=item["id"],
        to_email="Colleague@Example.com ",
        message="Have a look",
    )

    referral = session.get(Referral, outcome.referral_id)
    outbox = session.exec(select(OutboxMessage)).one()
    assert referral.document_id == item["id"] and referral.record_id is None
    assert referral.recipient_email == "colleague@example.com"
    assert outbox.to_address == "colleague@example.com"
    assert "Brochure.pdf" in outbox.subject
    assert "/invite/" in outbox.body_text
    history = referrals.document_referral_history(
        session=session, user=free_user, document_id=item["id"]
    )
    assert [entry["recipient_email"] for entry in history] == ["colleague@example.com"]
    assert history[0]["state"] == "invited"


def test_document_cannot_be_referred_to_yourself(session, storage, free_user):
    item = _store(session, free_user)

    with pytest.raises(InvalidInput, match="refer a document to yourself"):
        referrals.refer_document(
            session=session,
            user=free_user,
            document_id=item["id"],
            to_email=free_user.email.upper(),
        )


def test_pending_document_referral_sends_no_second_invitation(
    session, storage, paid_user
):
    item = _store(session, paid_user)
    referrals.refer_document(
        session=session,
        user=paid_user,
        document_id=item["id"],
        to_email="new@example.com",
    )

    with pytest.raises(InvalidInput, match="still pending"):
        referrals.refer_document(
            session=session,
            user=paid_user,
            document_id=item["id"],
            to_email=" NEW@example.com",
        )

    assert len(session.exec(select(Referral)).all()) == 1
    assert len(session.exec(select(OutboxMessage)).all()) == 1


def test_recipient_who_has_the_document_is_not_sent_it_again(
    session, storage, shared, paid_user, free_user
):
    invitation = session.exec(select(Invitation)).one()
    invitation.accepted_at = utcnow()
    session.add(invitation)
    session.commit()

    with pytest.raises(InvalidInput, match="already has this document"):
        referrals.refer_document(
            session=session,
            user=paid_user,
            document_id=shared["id"],
            to_email=free_user.email,
        )


def test_a_document_referral_has_no_record_detail(session, storage, shared, free_user):
    with pytest.raises(NotAllowed, match="Library"):
        referrals.referral_detail(
            session=session, user=free_user, referral_id=shared["referral_id"]
        )
    assert referrals.list_referred_to_me(session=session, user=free_user).total == 0


# Invitations for documents


def _token(session) -> str:
    body = session.exec(select(OutboxMessage)).one().body_text
    return body.split("/invite/", 1)[1].split()[0]


def test_invitation_for_a_document_describes_it_and_lands_in_the_library(
    session, storage, paid_user
):
    item = _store(session, paid_user, name="Partner terms.pdf")
    referrals.refer_document(
        session=session,
        user=paid_user,
        document_id=item["id"],
        to_email="new@example.com",
    )
    token = _token(session)

    view = invitations.inspect_invitation(session=session, token=token, user=None)
    session_token, landing = invitations.register_from_invitation(
        session=session, token=token, password=TEST_PASSWORD
    )

    assert view.item_kind == "document"
    assert view.item_label == "Partner terms.pdf"
    assert view.view == invitations.VIEW_REGISTER
    assert landing == "/library"
    newcomer = auth.user_for_token(session, session_token)
    page = library.list_library(session=session, user=newcomer)
    assert [entry["name"] for entry in page.items] == ["Partner terms.pdf"]
    assert page.items[0]["shared_by"] == "Olivia Owner"
    path, _ = library.document_for_download(
        session=session, user=newcomer, document_id=item["id"]
    )
    assert path.read_bytes() == PDF


def test_existing_user_accepting_a_document_lands_in_the_library(
    session, storage, paid_user, make_user
):
    item = _store(session, paid_user)
    existing = make_user("known@example.com", plan=PLAN_FREE)
    referrals.refer_document(
        session=session,
        user=paid_user,
        document_id=item["id"],
        to_email=existing.email,
    )

    landing = invitations.accept_invitation(
        session=session, token=_token(session), user=existing
    )

    assert landing == "/library"
