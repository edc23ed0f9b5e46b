"""Stage 7, the audit trail: the register of every figure, table and quoted number, the
manifest of a build, `trace` and `verify`."""
