"""Stage 3, the assessment: pure status rules (status, light, projection) in `rules`, and the
Chinese sentences and number formats that explain them in `narrative`, counts per group and
the status table in `tables`, task grades in `grades`, named projects in `projects`."""

from planbook.assess.rules import STATUS, Assessment, assess_all, assess_indicator

__all__ = ["STATUS", "Assessment", "assess_all", "assess_indicator"]
