"""The SSRF policy downloads run under, from the settings, in one place."""

from audiograb.config import Settings
from audiograb.engines.netguard import AddressPolicy


def address_policy(settings: Settings) -> AddressPolicy:
    """Private addresses are refused unless the settings allow them all or name them."""
    return AddressPolicy(
        allow_private=settings.allow_private_networks, allow=frozenset(settings.allow_networks)
    )
