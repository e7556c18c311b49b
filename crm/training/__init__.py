"""Peer-training programmes: programmes, sessions with recurrence, enrolment, attendance, feedback and calendar
feeds."""
