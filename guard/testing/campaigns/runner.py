"""Running a campaign: worker threads taking identities in turn, solver processes beside."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

from guard.testing.campaigns.identity import Identity
from guard.testing.campaigns.spec import CampaignResult, CampaignSpec
from guard.testing.campaigns.state import CampaignState


def run_campaign(
    base: str,
    spec: CampaignSpec,
    first_id: int,
    records: int,
    *,
    deadline: float = 300.0,
    workers: int = 8,
    solvers: int = 2,
) -> CampaignResult:
    """Run ``spec`` against the site at ``base`` whose records are ``first_id`` onwards.

    Each record is tried at most twice: a refused id is left by that identity (which
    rotates away) and tried once more by a fresh one. Stops when ``spec.tries`` reads are
    made, no ids are left, or ``deadline`` seconds have passed.

    Args:
        base: the site's base URL on loopback, as ``live_server`` yields it.
        spec: the campaign.
        first_id: the lowest record id.
        records: how many records there are (ids ``first_id`` .. ``first_id+records-1``).
        deadline: wall seconds after which no new request starts.
        workers: threads, each working through identities one at a time.
        solvers: processes solving proofs of work (when ``spec.solve``).

    Returns:
        What the campaign got.
    """
    started = time.monotonic()
    campaign = CampaignState(base, spec, first_id, records, started + deadline)
    pool: Executor | None = None
    if spec.solve:
        context = multiprocessing.get_context("spawn")  # the caller has threads: no fork
        pool = ProcessPoolExecutor(max_workers=solvers, mp_context=context)
    campaign.solver = pool
    try:
        with ThreadPoolExecutor(max_workers=workers) as threads:
            for done in [threads.submit(_work, campaign) for _ in range(workers)]:
                done.result()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    campaign.result.seconds = time.monotonic() - started
    return campaign.result


def _work(campaign: CampaignState) -> None:
    """One worker: identities one after another until the campaign is over."""
    while not campaign.expired():
        with campaign.lock:
            waiting = campaign.exhausted()
            if waiting and campaign.active == 0:
                return
            if not waiting:
                campaign.active += 1
                number = next(campaign.identities)
        if waiting:
            time.sleep(0.05)  # an identity still reading may hand ids back
            continue
        try:
            Identity(campaign, number).run()
        finally:
            with campaign.lock:
                campaign.active -= 1
