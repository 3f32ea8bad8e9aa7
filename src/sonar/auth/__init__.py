"""Who may use SONAR: local users, bearer tokens, and the access log of identifiable reads.

Kept apart from the domain: users and access records are not clinical events, and the
access log must stay out of the clinical streams an auditor verifies.
"""
