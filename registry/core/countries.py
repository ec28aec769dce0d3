"""Country codes: ISO 3166-1 alpha-2, and Kosovo's user-assigned `XK`.

ISO 3166-1 has not assigned Kosovo a code; the European Commission, the ROR registry (GeoNames),
the universities-and-domains list, passports and most data sets use the user-assigned `XK` (alpha-3
`XKX`). pycountry follows ISO alone, so every country check of the registry goes through here.
"""

from __future__ import annotations

import pycountry

# Codes the registry accepts beside ISO 3166-1: code -> (alpha-3, name).
USER_ASSIGNED = {"XK": ("XKX", "Kosovo")}
_ALPHA_3 = {alpha_3: code for code, (alpha_3, _) in USER_ASSIGNED.items()}


def is_country(code: str | None) -> bool:
    """Whether `code` (upper case) is a country code the registry accepts."""
    if not code or not isinstance(code, str):
        return False
    return code in USER_ASSIGNED or pycountry.countries.get(alpha_2=code) is not None


def country_name(code: str | None) -> str | None:
    if code in USER_ASSIGNED:
        return USER_ASSIGNED[code][1]
    found = pycountry.countries.get(alpha_2=code) if code else None
    return found.name if found else None


def alpha_2(alpha_3: str | None) -> str | None:
    """The alpha-2 code of an alpha-3 one (`DEU` -> `DE`, `XKX` -> `XK`); None if unknown."""
    if not alpha_3:
        return None
    code = alpha_3.upper()
    if code in _ALPHA_3:
        return _ALPHA_3[code]
    found = pycountry.countries.get(alpha_3=code)
    return found.alpha_2 if found else None
