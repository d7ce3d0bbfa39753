"""The audit log (审计日志): an append-only record of who did what, for the security auditor.

Every stage may write to it through `record()`; it imports nothing of the project, so it sits left of `orgs`.
"""
