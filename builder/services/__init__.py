"""Builder services (writes): workflows and drafts, publishing and versions, import/export, audit.

Other apps use `audit_record` to log their own actions (runs, deletes) in the same trail."""

from builder.services.audit import audit_record

__all__ = ["audit_record"]
