"""risk package: the pre-trade judge (manager), its limits, breakers and skew helper; see GUARDS.md."""
