"""Only the platform's own signature, fresh, gets in: wrong key, truncated header, replayed time."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from connector.signing import SignatureError, sign_platform, verify_platform
from connector.store.models import ActivityEvent
from tests.actions.conftest import add_invoice

EVENT = {"kind": "collection_started", "invoice": "INV-1"}


def _nothing_happened(rt) -> None:
    with rt.sessions() as session:
        kinds = list(session.scalars(select(ActivityEvent.kind)))
    assert "collection_started" not in kinds


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ({"secret": "not the platform's secret"}, "does not match"),
        ({"at_offset": -400}, "replay"),
        ({"at_offset": 900}, "replay"),
        ({"header": ""}, "missing"),
        ({"header": "t=123"}, "must be"),
        ({"header": "v1=abc"}, "must be"),
        ({"header": "t=nope,v1=abc"}, "unix time"),
    ],
)
def test_a_bad_signature_is_401_and_changes_nothing(platform, api_rt, how, message) -> None:
    add_invoice(api_rt, "INV-1")
    if "at_offset" in how:  # from now, not from when the module was collected (a long suite ran since)
        how = {"at": time.time() + how["at_offset"]}
    response = platform.post(EVENT, **how)
    assert response.status_code == 401
    assert response.json["error"]["field"] == "X-Connector-Signature" and message in response.json["error"]["message"]
    _nothing_happened(api_rt)


def test_a_truncated_signature_does_not_match(platform, api_rt) -> None:
    add_invoice(api_rt, "INV-1")
    body = b'{"kind": "collection_started", "invoice": "INV-1"}'
    good = sign_platform(body, platform.secret, int(time.time()))
    assert platform.post(body, header=good[:-2]).status_code == 401
    assert platform.post(body, header=good).status_code == 200


def test_the_body_is_what_is_signed() -> None:
    header = sign_platform(b'{"a": 1}', "s3cret", 1000)
    assert verify_platform(header, b'{"a": 1}', {"p": "s3cret"}, now=1000, window=300).account == "p"
    with pytest.raises(SignatureError):
        verify_platform(header, b'{"a": 2}', {"p": "s3cret"}, now=1000, window=300)


def test_a_rotated_secret_may_sign_alongside_the_old_one() -> None:
    body = b"{}"
    old = sign_platform(body, "old", 1000).split(",")[1]
    new = sign_platform(body, "new", 1000)
    assert verify_platform(f"{new},{old}", body, {"p": "old"}, now=1000, window=300).account == "p"


def test_an_account_without_a_secret_in_its_variable_never_verifies() -> None:
    with pytest.raises(SignatureError):
        verify_platform(sign_platform(b"{}", "", 1000), b"{}", {"p": ""}, now=1000, window=300)


def test_nothing_is_logged_of_the_secret(platform, api_rt, caplog) -> None:
    add_invoice(api_rt, "INV-1")
    platform.post(EVENT, secret="wrong")
    platform.post(EVENT)
    assert platform.secret not in caplog.text
    with api_rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ActivityEvent)) >= 1
