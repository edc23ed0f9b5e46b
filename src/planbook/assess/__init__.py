"""Stage 3, the assessment: pure status rules (status, light, projection) in `rules`, and the
Chinese sentences and number formats that explain them in `narrative`."""

from planbook.assess.rules import STATUS, Assessment, assess_all, assess_indicator

__all__ = ["STATUS", "Assessment", "assess_all", "assess_indicator"]
