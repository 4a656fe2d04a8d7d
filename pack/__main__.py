"""The pack project: publish this commit's policy pack version to Pulumi Cloud, once."""

import sys
from pathlib import Path

# The engine runs this file from pack/; the components live one level up.
ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import pulumi  # noqa: E402

from components.pack_publishing import PublishedPack, pack_organization, published_pack_args  # noqa: E402

organization = pack_organization(pulumi.Config("pack").get("organization"))
pack = PublishedPack("pack", published_pack_args(organization))
pulumi.export("version", pack.version_tag)
pulumi.export("content_hash", pack.content_hash)
