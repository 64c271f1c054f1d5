"""elt_log."""
