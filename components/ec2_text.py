"""Text EC2 accepts as the description of a security group or of one of its rules.

EC2 refuses the whole call (the group or the rule is never created) when a
description holds a character outside its set, so every description the program
builds goes through ``sg_description`` and a wrong one fails the program at once.
"""

from __future__ import annotations

import re

# Source: botocore ec2 service-2.json, IpRange.Description and CreateSecurityGroupRequest.Description:
# "Up to 255 characters in length. Allowed characters are a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*".
# UserIdGroupPair.Description (a rule that references a group) leaves '&' out, so neither form uses it.
ALLOWED_CHARACTERS = "a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=;{}!$*"
MAX_LENGTH = 255
_ALLOWED = re.compile(r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=;{}!$*]")


def description_problem(text: str) -> str | None:
    """Why EC2 would refuse ``text`` as a security group or rule description, or None."""
    refused = sorted({c for c in text if not _ALLOWED.fullmatch(c)})
    if refused:
        return f"characters {''.join(refused)!r} are outside EC2's set ({ALLOWED_CHARACTERS})"
    if len(text) > MAX_LENGTH:
        return f"{len(text)} characters; EC2 allows at most {MAX_LENGTH}"
    return None


def sg_description(text: str) -> str:
    """``text`` unchanged when EC2 accepts it as a description; ``ValueError`` naming what it refuses."""
    problem = description_problem(text)
    if problem:
        message = f"security group description {text!r}: {problem}"
        raise ValueError(message)
    return text
