"""What the services say, rewritten for a person reading a page.

The services word their errors for the command line ("--comment: ...",
"1 problem(s)", pydantic's "String should match pattern '^[A-Za-z0-9]...'").
On a page a person needs the field's name as the form shows it, what is wrong
and what to do. The services stay the authority on *whether* input is valid;
this module only changes how the answer reads.
"""

from __future__ import annotations

import re

from app import fmt

# Form labels of flash-sale request fields (the JSON keys the service names).
SALE_FIELDS = {
    "merchant_id": "Merchant id", "merchant_name": "Merchant name", "merchant_category": "Merchant category",
    "reporter": "Reporter", "key_account_manager": "Key account manager",
    "solution_engineer": "Solution engineer", "countries": "Countries", "starts_at": "Start",
    "ends_at": "End", "expected_peak_rpm": "Expected peak", "expected_multiplier": "Expected multiplier",
    "notes": "Notes", "limit_rpm": "Limit to grant", "reason": "Reason", "request": "Request",
}
# What a valid value looks like, for fields checked by a pattern.
SALE_HINTS = {
    "merchant_id": "use letters, digits and _ . : - only (up to 64 characters), starting with a letter or digit",
    "reporter": "give a user name such as jane.doe, or an e-mail address",
    "key_account_manager": "give a user name such as jane.doe, or an e-mail address",
    "solution_engineer": "give a user name such as jane.doe, or an e-mail address",
}
CAPACITIES = {"architect": "a domain architect", "readiness_team": "the readiness team", "admin": "an admin"}
FLAGS = {"--comment": "Comment", "--reason": "Reason", "--evidence": "Evidence", "--as": "User",
         "--state": "State", "--expires": "Valid through"}

_PYDANTIC = [  # (pattern of pydantic's message, what a person reads; {label}, {hint} and groups filled in)
    (r"^String should match pattern", "{label} is not in the expected form: {hint}."),
    (r"^String should have at least 1 character", "{label} is empty: fill it in."),
    (r"^String should have at most (\d+) characters?", "{label} is too long: keep it to {0} characters."),
    (r"^List should have at least 1 item", "{label}: none picked; pick at least one."),
    (r"^List should have at most (\d+) items?", "{label}: too many picked; pick at most {0}."),
    (r"^Input should be greater than or equal to ([\d.]+)", "{label} must be at least {0}."),
    (r"^Input should be greater than ([\d.]+)", "{label} must be more than {0}."),
    (r"^Input should be less than or equal to ([\d.]+)", "{label} must be at most {0}."),
    (r"^Input should be a valid (number|integer)", "{label} must be a number."),
    (r"^Input should be a valid datetime|^Input should have timezone info", "{label} must be a date and time."),
    (r"^required$", "{label} is missing: fill it in."),
]


def sale_field(field: str) -> str:
    """"countries.2" -> "Countries (entry 3)"; "merchant_id" -> "Merchant id"."""
    top, _, index = field.partition(".")
    label = SALE_FIELDS.get(top, top.replace("_", " ").capitalize())
    return f"{label} (entry {int(index) + 1})" if index.isdigit() else label


def sale_problem(field: str, message: str) -> str:
    """One flash-sale field problem as a sentence: the field, what is wrong, what to do."""
    label = sale_field(field)
    hint = SALE_HINTS.get(field.partition(".")[0], "see the field's description")
    message = re.sub(r"\s*\(expected [^)]*\)$", "", message.strip())
    for pattern, text in _PYDANTIC:
        match = re.match(pattern, message)
        if match:
            numbers = [_number(g) for g in match.groups()]
            return text.format(*numbers, label=label, hint=hint)
    return f"{label}: {plain(_name_fields(message))}"


def plain(text: str) -> str:
    """A service message without command-line wording: flags, role keys, "problem(s)", long floats."""
    text = _COUNTED.sub(_counted, text)
    for flag, label in FLAGS.items():
        text = re.sub(rf"{flag}:\s*", f"{label}: ", text).replace(flag, label.lower())
    for key, words in CAPACITIES.items():
        text = re.sub(rf"\b(needs|needs the|for|as) {key}\b", rf"\1 {words}", text)
    text = re.sub(r"\b\d+\.\d{3,}\b", lambda m: _number(m.group(0)), text)
    return text


# "3 problem(s)", "14 day(s)", "0 overlapping sale(s)": a count, words between, a noun with "(s)".
_COUNTED = re.compile(r"\b(\d[\d,]*)((?: [a-z-]+)*?) ([A-Za-z]+)\(s\)")


def _counted(match: re.Match) -> str:
    n = int(match.group(1).replace(",", ""))
    return f"{n:,}{match.group(2)} {match.group(3)}{'' if n == 1 else 's'}"


def capacities(keys) -> str:
    """["architect", "readiness_team"] -> "a domain architect and the readiness team"."""
    return " and ".join(CAPACITIES.get(k, k.replace("_", " ")) for k in keys)


def _name_fields(message: str) -> str:
    """Field keys inside a message ("must be after starts_at") as their labels."""
    return re.sub(r"\b(" + "|".join(SALE_FIELDS) + r")\b", lambda m: SALE_FIELDS[m.group(1)].lower(), message)


def _number(text: str) -> str:
    value = float(text)
    return fmt.number(value, 0 if value.is_integer() else 2)


def evidence_rows(evidence) -> list[dict]:
    """A finding's evidence as table rows a person reads: a missing value is a dash (never
    "None"), where a fact came from is "file:line", a merged workload names both sources and
    which one was used, any other nested value is "key: value" (never raw JSON)."""
    rows = [{str(key).replace("_", " "): _evidence_cell(key, value) for key, value in item.items()}
            for item in evidence]
    columns = list(dict.fromkeys(c for row in rows for c in row))
    rows = [{c: row.get(c, fmt.MISSING) for c in columns} for row in rows]  # a key some items lack: a dash
    for column in columns:  # a column mixing numbers and text is all text
        cells = [row[column] for row in rows if column in row]
        if any(isinstance(c, str) for c in cells) and not all(isinstance(c, str) for c in cells):
            for row in rows:
                if column in row and not isinstance(row[column], str):
                    row[column] = _evidence_text(column, row[column])
    return rows


def _evidence_cell(key, value):
    if value is None or (isinstance(value, float) and value != value):
        return fmt.MISSING
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return plain(value)
    if isinstance(value, dict) and "file" in value:
        return f"{value['file']}:{value['line']}" if value.get("line") else str(value["file"])
    if key == "merged" and isinstance(value, dict):
        names = [f"{value[source]} ({source})" for source in ("kubernetes", "inventory") if value.get(source)]
        used = sorted({d.get("used") for d in (value.get("differences") or {}).values() if isinstance(d, dict)} - {None})
        differ = ", ".join(k.replace("_", " ") for k in value.get("differences") or {})
        return " + ".join(names) + (f"; {differ} differ, {' and '.join(used)} used" if differ else "")
    if isinstance(value, dict):
        return "; ".join(f"{str(k).replace('_', ' ')}: {_evidence_text(k, v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_evidence_text(key, v) for v in value) or fmt.MISSING
    return str(value)


def _evidence_text(key, value) -> str:
    cell = _evidence_cell(key, value)
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    if isinstance(cell, float):
        return f"{int(cell):,}" if cell.is_integer() else f"{cell:,.6g}"  # 0.001 stays 0.001
    return str(cell)
