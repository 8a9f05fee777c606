"""Target URLs read the way k6 reads them, so the host the allow-list checks is the host k6 connects to.

Python's ``urlsplit`` and Go's ``net/url`` (k6) disagree on some URLs: in
``http://10.0.0.1\\@127.0.0.1:8080/`` Python takes ``127.0.0.1`` as the host
(``10.0.0.1\\`` as a user name) while Go does not, so the allow-list would
approve one host and k6 would aim at another (or at nothing, and a run that
sent no request would look clean). Only URLs both read alike are accepted:
printable ASCII, no backslash, no user name or password, no percent-escapes
in the host, a numeric port.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def k6_host(url: str) -> str:
    """The lower-cased host k6 connects to; ValueError saying what to change when the URL is ambiguous."""
    bad = next((c for c in url if ord(c) <= 0x20 or ord(c) >= 0x7F), None)
    if bad is not None:
        raise ValueError(f"{url!r}: contains {bad!r}; a target URL is printable ASCII without spaces "
                         "(percent-encode the path and query)")
    if "\\" in url:
        raise ValueError(f"{url!r}: contains a backslash, which k6 and the allow-list would read differently; "
                         "use forward slashes")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http or https URL with a host, got {url!r}")
    if "@" in parts.netloc:
        raise ValueError(f"{url!r}: a user name or password before '@' is not accepted; give the host only "
                         "(credentials go in a header: --header 'Authorization: ...')")
    if "%" in parts.netloc:
        raise ValueError(f"{url!r}: percent-escapes in the host are not accepted; write the host plainly")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        raise ValueError(f"{url!r}: the port must be a number from 1 to 65535") from None
    return parts.hostname.lower()
