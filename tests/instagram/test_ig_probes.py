"""The Instagram questions ``doctor --probe`` can ask with reads only, on the strict sandbox."""

from __future__ import annotations

from socialdesk.api.probes import ProbeStatus, run_probes

from .conftest import IgWorld


def test_instagram_probes_on_the_sandbox(igw: IgWorld) -> None:
    for i in range(25):
        igw.dm(igw.jane, f"long {i}", minutes_ago=20 - i * 0.5)
    igw.sb.reset_counters()
    with igw.client() as client:
        results = {
            r.number: r
            for r in run_probes(client, igw.page_id, now=igw.sb.now(), numbers={101, 102, 109, 114})
        }
    assert results[101].status is ProbeStatus.AS_ASSUMED, results[101]
    assert results[102].status is ProbeStatus.AS_ASSUMED, results[102]
    assert results[109].status is ProbeStatus.AS_ASSUMED and "messenger" in results[109].found
    assert results[114].status is ProbeStatus.AS_ASSUMED
    assert all(k.startswith("GET") for k in igw.sb.calls_by_edge), igw.sb.calls_by_edge
