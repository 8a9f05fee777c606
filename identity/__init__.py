"""Who is acting: personal API tokens that prove a person to every command line.

A kernel package (it imports ``storage`` only). It owns the ``identity_token`` table
(hashed, expiring, revocable tokens, never deleted) and the database's ``demo`` mark,
with their own Alembic branch. It proves *who* acts; *what* they may do stays with the
contexts that own the roles (the catalog's central roles in ``readiness``, governance,
flash sales). ``clikit.proven_actor`` applies it to a command's ``--as`` / ``--token-file``.
"""

from storage import lazy_surface

# Each public name loads from its module on first use (PEP 562): a command's --help and its
# error handling need only ``identity.errors``, not the token store and the database layer.
_EXPORTS = {
    "DEFAULT_DAYS": "identity.errors",
    "HOW_TO_GET_ONE": "identity.errors",
    "MAX_DAYS": "identity.errors",
    "TOKEN_ENV": "identity.errors",
    "IdentityError": "identity.errors",
    "IssuedToken": "identity.tokens",
    "NotProven": "identity.errors",
    "get_token": "identity.tokens",
    "has_active_token": "identity.tokens",
    "is_demo": "identity.tokens",
    "issue_token": "identity.tokens",
    "list_tokens": "identity.tokens",
    "mark_demo": "identity.tokens",
    "prove": "identity.tokens",
    "revoke_token": "identity.tokens",
    "token_person": "identity.tokens",
}

__all__ = [
    "DEFAULT_DAYS", "HOW_TO_GET_ONE", "MAX_DAYS", "TOKEN_ENV", "IdentityError", "IssuedToken", "NotProven",
    "get_token", "has_active_token", "is_demo", "issue_token", "list_tokens", "mark_demo", "prove", "revoke_token",
    "token_person",
]


lazy_surface(__name__, _EXPORTS)
