"""Capacity self-assessment: frameworks as data, rounds answered by representatives, validation, results."""
