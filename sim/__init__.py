"""Customer-lifecycle simulation and CRM strategy testbed."""
from .config import ConfigError, SimConfig, compose, load, validate
from .market import Market
from .run import build, run, simulate

__all__ = ["ConfigError", "SimConfig", "Market", "compose", "load", "validate", "build", "run", "simulate"]
__version__ = "0.1.0"
