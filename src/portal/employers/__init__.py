"""Employers, enrolment (signatory check, paper enrolment), de-registration and termination (R6, R7, R17)."""
