"""Stage 1, the plan as data and the calendar: the registry read from the plan text
(indicators, targets, tasks, departments), reporting periods and the period parameters."""
