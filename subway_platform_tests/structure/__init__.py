"""Tests of the code's structure: imports, import cost, import-time side effects."""
