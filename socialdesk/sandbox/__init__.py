"""A faithful fake of the Graph API subset socialdesk uses (PRODUCT.md §9, GRAPH_API.md §18).

Used by tests (``Sandbox.transport()``), the CLI (``socialdesk sandbox serve``, ``demo``) and the
benchmarks (``Sandbox.serve()``). Standard library plus httpx only; imports nothing else of
socialdesk.

    sb, page_id, token = build_demo(seed=0, threads=60, now=None)
    client = httpx.Client(transport=sb.transport(), base_url="https://graph.facebook.com")
"""

from .demo import Activity, build_demo
from .engine import Sandbox, file_attachment, image_attachment
from .faults import FaultSpec
from .handler import Reply, appsecret_proof
from .model import Delivery
from .server import SandboxServer, serve_forever
from .transport import SandboxTransport

__all__ = [
    "Activity",
    "Delivery",
    "FaultSpec",
    "Reply",
    "Sandbox",
    "SandboxServer",
    "SandboxTransport",
    "appsecret_proof",
    "build_demo",
    "file_attachment",
    "image_attachment",
    "serve_forever",
]
