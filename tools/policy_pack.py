"""``python -m tools.policy_pack record|check``: keep policy/published.json in step with the pack's files."""

from __future__ import annotations

import sys

from components.policy_pack import PackVersionError, check, packed_files, record


def main(argv: list[str]) -> int:
    """0 done, 1 refused (a changed pack under a recorded version), 2 bad usage."""
    if argv not in (["record"], ["check"]):
        print("usage: python -m tools.policy_pack record|check", file=sys.stderr)
        return 2
    try:
        version = record() if argv == ["record"] else check()
    except PackVersionError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"policy pack {version}: {len(packed_files())} files, {'recorded' if argv == ['record'] else 'as recorded'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
