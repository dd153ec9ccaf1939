"""Pure decisions (no web framework, no database): they import only :mod:`ugc_guard.policy`."""
