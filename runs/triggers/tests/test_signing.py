"""Standard Webhooks verification, checked against signatures made by the reference library."""

import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from trellis import signing

BODY = b'{"message":"hello"}'


def _reference_headers(secret: str, msg_id: str, body: bytes, ts: int) -> dict:
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(ts, tz=UTC), body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}


def test_a_signature_made_by_the_reference_library_verifies():
    secret = signing.new_secret()
    headers = _reference_headers(secret, "msg_1", BODY, int(time.time()))

    signing.verify([secret], headers, BODY, tolerance_s=300)


def test_our_signatures_verify_with_the_reference_library():
    secret = signing.new_secret()
    headers = signing.signed_headers(secret, "msg_2", BODY)

    assert Webhook(secret).verify(BODY, headers) == {"message": "hello"}


def test_secrets_look_like_whsec_base64_of_32_bytes():
    import base64

    secret = signing.new_secret()

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_a_tampered_body_is_refused():
    secret = signing.new_secret()
    headers = _reference_headers(secret, "msg_1", BODY, int(time.time()))

    with pytest.raises(signing.SignatureError) as exc:
        signing.verify([secret], headers, b'{"message":"hellO"}', tolerance_s=300)
    assert exc.value.code == "invalid_signature"


def test_a_timestamp_older_than_the_tolerance_is_refused_even_with_a_valid_signature():
    secret = signing.new_secret()
    headers = _reference_headers(secret, "msg_1", BODY, int(time.time()) - 301)

    with pytest.raises(signing.SignatureError) as exc:
        signing.verify([secret], headers, BODY, tolerance_s=300)
    assert exc.value.code == "signature_expired"


def test_a_timestamp_too_far_in_the_future_is_refused():
    secret = signing.new_secret()
    headers = _reference_headers(secret, "msg_1", BODY, int(time.time()) + 301)

    with pytest.raises(signing.SignatureError) as exc:
        signing.verify([secret], headers, BODY, tolerance_s=300)
    assert exc.value.code == "signature_expired"


def test_a_signature_replayed_with_a_fresh_timestamp_is_refused():
    secret = signing.new_secret()
    old = _reference_headers(secret, "msg_1", BODY, int(time.time()) - 10)
    replayed = {**old, "webhook-timestamp": str(int(time.time()))}

    with pytest.raises(signing.SignatureError) as exc:
        signing.verify([secret], replayed, BODY, tolerance_s=300)
    assert exc.value.code == "invalid_signature"


def test_a_signature_moved_to_another_message_id_is_refused():
    secret = signing.new_secret()
    headers = {**_reference_headers(secret, "msg_1", BODY, int(time.time())), "webhook-id": "msg_2"}

    with pytest.raises(signing.SignatureError):
        signing.verify([secret], headers, BODY, tolerance_s=300)


def test_the_wrong_secret_is_refused():
    headers = _reference_headers(signing.new_secret(), "msg_1", BODY, int(time.time()))

    with pytest.raises(signing.SignatureError):
        signing.verify([signing.new_secret()], headers, BODY, tolerance_s=300)


def test_missing_headers_are_refused():
    with pytest.raises(signing.SignatureError) as exc:
        signing.verify([signing.new_secret()], {"webhook-id": "x"}, BODY, tolerance_s=300)
    assert exc.value.code == "missing_signature"


def test_any_of_several_signatures_and_any_of_several_secrets_may_match():
    old, new = signing.new_secret(), signing.new_secret()
    ts = int(time.time())
    signed_new = signing.sign(new, "msg_1", ts, BODY)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(ts),
        "webhook-signature": f"v1,bm90aGluZw== {signed_new}",
    }

    signing.verify([old, new], headers, BODY, tolerance_s=300)
    with pytest.raises(signing.SignatureError):
        signing.verify([old], headers, BODY, tolerance_s=300)
