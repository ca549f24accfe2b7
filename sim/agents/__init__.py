"""Agents: customers (Mesa agent views on array rows) and firms."""
from .customer import Customer
from .firm import Firm, firms_from_config

__all__ = ["Customer", "Firm", "firms_from_config"]
