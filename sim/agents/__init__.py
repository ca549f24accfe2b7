"""Agents: customers (Mesa agent views on array rows) and firms."""
from .firm import Firm, firms_from_config

__all__ = ["Customer", "Firm", "firms_from_config"]


def __getattr__(name: str):
    """``Customer`` on first use: it is a Mesa agent, and importing Mesa is slow (a run does not need it)."""
    if name == "Customer":
        from .customer import Customer
        return Customer
    raise AttributeError(f"module 'sim.agents' has no attribute {name!r}")
