"""Pluggable CRM strategies (they see only the firm's CRM view) and market events. Add one with
one class here (or anywhere importable) and one YAML file in ``sim/configs/strategy/`` whose
``_target_`` names it."""
from .acquisition import MassAdvertising, ReferralProgramme, TargetedAcquisition
from .base import DoNothing, MarketEvent, Plugin, Segmenter, Strategy
from .development import CrossSell, UpSell
from .events import ServiceShock
from .retention import ChurnOutreach, LoyaltyProgramme, ServiceRecovery, WinBack
from .segmentation import RFM, Segmentation, StageSegment, Survey, ValueSegment
from .rivals import CompetitiveResponse, Promotion
from .build import build_strategies

__all__ = [
    "Strategy", "Segmenter", "DoNothing", "MassAdvertising", "TargetedAcquisition", "ReferralProgramme",
    "LoyaltyProgramme", "ServiceRecovery", "ChurnOutreach", "WinBack", "CrossSell", "UpSell",
    "RFM", "ValueSegment", "StageSegment", "Segmentation", "build_strategies",
    "ServiceShock", "MarketEvent", "Plugin", "Survey", "Promotion", "CompetitiveResponse",
]
