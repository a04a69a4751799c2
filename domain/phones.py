"""Phone numbers compared as E.164, normalised with `phonenumbers`.

Patients' numbers are stored as given and the SMS gateway sends its own spelling of the sender's number: both
sides go through `e164` before they are compared, so "+1 (602) 555-0100" and "+16025550100" are one number.
"""

import phonenumbers


def e164(number: str) -> str | None:
    """The number in E.164 (+ and digits), or None when it is not a possible international number.

    A number without its country code cannot be placed (no default region is assumed), and "possible" (the
    length fits the country) is asked rather than "valid", so reserved test ranges (555-01xx) still match."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
