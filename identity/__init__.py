"""Who is acting: personal API tokens that prove a person to every command line.

A kernel package (it imports ``storage`` only). It owns the ``identity_token`` table
(hashed, expiring, revocable tokens, never deleted) and the database's ``demo`` mark,
with their own Alembic branch. It proves *who* acts; *what* they may do stays with the
contexts that own the roles (the catalog's central roles in ``readiness``, governance,
flash sales). ``clikit.proven_actor`` applies it to a command's ``--as`` / ``--token-file``.
"""

from identity.tokens import (
    DEFAULT_DAYS,
    HOW_TO_GET_ONE,
    MAX_DAYS,
    TOKEN_ENV,
    IdentityError,
    IssuedToken,
    NotProven,
    get_token,
    has_active_token,
    is_demo,
    issue_token,
    list_tokens,
    mark_demo,
    prove,
    revoke_token,
    token_person,
)

__all__ = [
    "DEFAULT_DAYS", "HOW_TO_GET_ONE", "MAX_DAYS", "TOKEN_ENV", "IdentityError", "IssuedToken", "NotProven",
    "get_token", "has_active_token", "is_demo", "issue_token", "list_tokens", "mark_demo", "prove", "revoke_token",
    "token_person",
]
