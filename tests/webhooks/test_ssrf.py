"""Webhook URLs are judged by the address they reach, in every spelling, at registration and at
delivery; URLs with credentials are refused."""

from __future__ import annotations

import pytest

from studyapp.webhooks.http import BlockedAddress, is_public_address, post
from studyapp.webhooks.services import InvalidWebhook, webhook_create

# Each reaches this machine (or a private network) although it does not look like 127.0.0.1.
LOOPBACK_IN_DISGUISE = [
    "::127.0.0.1",  # IPv4-compatible
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "fec0::1",  # site-local
    "64:ff9b:1::7f00:1",  # local-use NAT64
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
]
IPV4_SPELLINGS = ["2130706433", "0x7f000001", "127.1", "0177.0.0.1", "0.0.0.0", "0"]


@pytest.mark.parametrize("address", LOOPBACK_IN_DISGUISE)
def test_ipv6_forms_that_reach_private_addresses_are_not_public(address):
    assert is_public_address(address) is False


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1", "2606:4700:4700::1111"])
def test_the_same_forms_of_public_addresses_stay_public(address):
    assert is_public_address(address) is True


def _urls() -> list[str]:
    return [f"http://[{a}]:8080/hook" for a in LOOPBACK_IN_DISGUISE] + [f"http://{a}:8080/hook" for a in IPV4_SPELLINGS]


@pytest.mark.django_db
@pytest.mark.parametrize("url", _urls())
def test_registration_refuses_every_spelling_of_a_private_address(alice, url):
    with pytest.raises(InvalidWebhook):
        webhook_create(owner=alice, url=url, allow_private=False)


@pytest.mark.parametrize("url", _urls())
def test_delivery_refuses_every_spelling_of_a_private_address(url):
    """Registered before the check existed, or by an operator: delivery checks again."""
    with pytest.raises((BlockedAddress, Exception)) as caught:
        post(url, b"{}", {}, timeout=1, allow_private=False)
    assert isinstance(caught.value, BlockedAddress), caught.value


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["https://user:pw@example.com/hook", "https://user@example.com/hook"])
def test_a_url_with_credentials_is_refused(alice, url):
    with pytest.raises(InvalidWebhook, match="may not carry a user name or password"):
        webhook_create(owner=alice, url=url, allow_private=True)
