"""The drain: one job per account decides the files in the account's inbox, a folder at a time.

A webhook names a file and nothing else, so a job per delivery reads every file on its own. The
drain reads a folder once instead and keeps that listing for the run: the first file it does not
know costs one ``show_file`` (to learn its folder) and one listing; later arrivals are picked up
by reading the folder newest first until a page holds nothing new; autostack's own writes are
applied to the listing as they are made. Names come from the listing, so camera originals and
names without versions are refused without a call. Each group is handed to the same
:class:`~workers.stacking.stacker.Stacker` as a per-file job (the group lock, the guarded writes, the
read-back after a move) once its coalescing window has closed, in the order :mod:`workers.ingest.batch`
gives: a lone upload into a quiet account at once (:mod:`workers.ingest.recent` remembers the
account's arrivals across drain jobs).

Anything the listing cannot settle goes to an ordinary per-file job, which has the whole
machinery for it: a file whose upload is not finished, one already in a stack, one a retryable
Frame.io failure struck, one whose group lock another job holds. An arrival leaves the inbox only
once its file has a decision or such a job, so a worker killed mid-drain loses nothing: RQ runs
the drain again.

A drain that hands over leaves its listings to the next drain of the account
(:mod:`workers.ingest.kept`), which starts from them while they are young; so does one killed
mid-drain, from its predecessor's: a write that the listing does not show yet (the killed drain's)
is refused by Frame.io and the group read afresh, as with any listing a person changed meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from redis.exceptions import LockError

from workers import runtime
from workers.frameio.errors import NotFound, PermanentError, RateLimited, RetryableError, Throttled, failure_code
from workers.frameio.models import Asset, FileAsset, StackAsset
from workers.frameio.retry import retry_delay
from workers.ingest import batch, kept, recent
from workers.ingest.arrival import Arrival
from workers.ingest.batch import Group, Pending
from workers.ingest.inbox import Inbox
from workers.ingest.queue import LOCK_RETRY_S, Run, enqueue_drain, enqueue_file_event
from workers.ingest.record import count_outcome, record_outcome
from workers.logs import bind
from workers.naming.parser import Declined, Parsed, Rules, parse
from workers.stacking.locks import LockBusy, LockLost, renewing
from workers.stacking.scope import FolderScope, Refusal
from workers.stacking.stacker import NOT_A_FOLDER, Outcome, Stacker, is_stack, lagging
from workers.stacking.writes import Write

log = logging.getLogger("autostack.drain")

RUN_BUDGET_S = 45.0  # then a fresh drain job takes over, behind other accounts' jobs
#: While other jobs wait for a worker (other accounts' drains), a drain hands over after this long,
#: and sleeps neither on a coalescing window nor on the limiter: one worker then serves every account
#: in turn, each soon (a hand-over costs a job, not a listing: :mod:`workers.ingest.kept`).
FAIR_SLICE_S = 0.25
SLICE_S = 1.0  # act this long, then look at the inbox again: new files change the priorities
SNAPSHOT = 2000  # inbox arrivals looked at per step
SHOWS_PER_STEP = 10  # files read one by one per step; the rest wait for the next step
LOCK_KEY = "autostack:drain-lock:{account}"
LOCK_TIMEOUT_S = 6.0  # a lease, renewed every third of it while the drain lives (a dead one's lapses)
LOCK_WAIT_S = 5.0
#: Events that are sent only once a file's bytes are in (a listing read earlier may say otherwise).
UPLOADED_EVENTS = ("file.upload.completed", "file.ready")


def drain_inbox(account_id: str) -> str:
    """RQ entry point: decide the account's inbox, then hand over or finish."""
    rt = runtime.current()
    bind(account_id=account_id, job="drain")
    lock = rt.redis().lock(
        LOCK_KEY.format(account=account_id), timeout=LOCK_TIMEOUT_S, blocking_timeout=LOCK_WAIT_S, thread_local=False
    )
    if not lock.acquire():
        enqueue_drain(rt.queue(), account_id, rt.settings, LOCK_RETRY_S)  # another drain of it is running
        return "busy"
    try:
        with renewing(lock, LOCK_TIMEOUT_S / 3):
            return Drain(rt, account_id, lock.reacquire).run()
    finally:
        with contextlib.suppress(LockError):
            lock.release()


@dataclass
class Listing:
    """A folder's children as this drain knows them: read once, then kept up to date."""

    folder_id: str
    assets: dict[str, Asset]
    read_at: float  # Redis time the last read of it began
    refusal: Refusal | None = None  # outside the configured folders, or paused
    written: list[Write] = field(default_factory=list)  # the drains' writes here, oldest first
    listed_at: float = 0.0  # Redis time the last whole read of it began (0: read_at)

    def __post_init__(self) -> None:
        self.listed_at = self.listed_at or self.read_at

    def to_kept(self) -> kept.Kept:
        return kept.Kept(self.folder_id, tuple(self.assets.values()), self.read_at, self.listed_at, tuple(self.written))

    def find(self, file_id: str) -> FileAsset | None:
        asset = self.assets.get(file_id)
        return asset if isinstance(asset, FileAsset) else None

    def take(self, page: Iterable[Asset]) -> int:
        """Add a page of a newer read; how many of its assets were new here."""
        new = 0
        for asset in page:
            new += asset.id not in self.assets
            self.assets[asset.id] = asset
        return new

    def absorb(self, outcome: Outcome) -> None:
        """Bring the listing up to date with what a stacking step read afresh and wrote. A fresh
        read may not show this drain's earlier writes yet (Frame.io's reads may lag its writes),
        so they are applied to it again."""
        if outcome.listing is not None:
            self.assets = {asset.id: asset for asset in outcome.listing}
            for write in self.written:
                self.apply(write)
        for write in outcome.writes:
            self.apply(write)
            self.written.append(write)

    def apply(self, write: Write) -> None:
        """A write autostack made here: its files left the folder for ``write.stack_id`` (applied
        again to a listing that shows it already, it changes nothing)."""
        moved = [self.assets.pop(file_id, None) for file_id in write.file_ids]
        if write.action == "created" and moved and isinstance(moved[-1], FileAsset):
            head = moved[-1]
            self.assets[write.stack_id] = StackAsset(write.stack_id, head.name, self.folder_id, head.id)


@dataclass
class Step:
    """What one look at the inbox found."""

    pending: list[Pending] = field(default_factory=list)
    unknown: list[Arrival] = field(default_factory=list)  # for per-file jobs
    deferred: int = 0  # left for the next step


class Drain:
    def __init__(
        self, rt: runtime.Runtime, account_id: str, keep_lock: Callable[[], bool], budget_s: float = RUN_BUDGET_S
    ) -> None:
        self.rt = rt
        self.budget_s = budget_s
        self.settings = rt.settings
        self.account_id = account_id
        self.keep_lock = keep_lock
        self.client = rt.frameio()
        self.memory = rt.memory()
        self.inbox = Inbox(rt.redis(), account_id)
        self.scope = FolderScope(self.client, rt.redis(), self.settings.autostack_folders)
        self.listings: dict[str, Listing] = {}
        self.pulses: dict[str, batch.Pulse] = {}
        self.timing = batch.Timing(self.settings.autostack_coalesce_window_s, self.settings.autostack_burst_hold_s)
        self.names: dict[tuple[str, str], Parsed | Declined] = {}  # (folder id, name): a folder's scope reads it
        self.stacker = Stacker(
            self.client,
            rt.folder_rules(),
            rt.policy(),
            dry_run=self.settings.autostack_dry_run,
            lock=rt.locks().hold,
            memory=self.memory,
            job_id=f"drain:{account_id}",
        )

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> str:
        started = time.monotonic()
        deadline = started + self.budget_s
        self._restore()
        while True:
            self._keep_alive()
            arrivals = self.inbox.snapshot(SNAPSHOT)
            if not arrivals:
                if self.inbox.close_if_empty():
                    self._leave()
                    return "drained"
                continue
            crowded = self._others_wait()
            patience = 0.0 if crowded else self.settings.autostack_max_inline_wait_s
            try:
                with self.rt.patience(patience):
                    wait = self.step(arrivals, FAIR_SLICE_S if crowded else SLICE_S)
            except RateLimited as exc:  # Frame.io's 429, or the shared limiter asks for a long wait
                return self._again(self._delay(exc), str(exc))
            if time.monotonic() >= deadline:
                return self._again(0.0, "handed over")
            if wait > self.settings.autostack_max_inline_wait_s:
                return self._again(wait, "waiting for the coalescing window")
            if (wait > 0 or time.monotonic() - started >= FAIR_SLICE_S) and self._others_wait():
                return self._again(wait, "handed over: other jobs wait for a worker")
            if wait > 0:
                time.sleep(wait)  # the coalescing window of the next group closes this soon

    def _others_wait(self) -> bool:
        """Jobs (other accounts' drains among them) wait in the queue for a worker."""
        return self.rt.queue().count > 0

    def _keep_alive(self) -> None:
        self.inbox.keep_flag()
        try:
            self.keep_lock()
        except LockError:
            raise LockLost(f"lost the drain lock of account {self.account_id}") from None

    def _delay(self, error: RetryableError) -> float:
        if isinstance(error, Throttled):
            return error.wait
        return (retry_delay(error, 1, random.random()) or 30.0) * self.settings.autostack_retry_scale

    def _restore(self) -> None:
        """Start from the listings the last drain of the account left (:mod:`workers.ingest.kept`);
        a folder whose scope cannot be checked now is read afresh when needed."""
        for found in kept.load(self.rt.redis(), self.account_id, self.memory.now()):
            try:
                refusal = self.scope.refusal(self.account_id, found.folder_id)
            except (PermanentError, RetryableError):
                continue
            assets = {asset.id: asset for asset in found.assets}
            listing = Listing(found.folder_id, assets, found.read_at, refusal, list(found.written), found.listed_at)
            self.listings[found.folder_id] = listing

    def _leave(self) -> None:
        """Leave the listings to the next drain of the account."""
        kept.save(
            self.rt.redis(),
            self.account_id,
            [listing.to_kept() for listing in self.listings.values()],
            self.memory.now(),
        )

    def _again(self, delay: float, why: str) -> str:
        self._leave()
        self.inbox.keep_flag()
        enqueue_drain(self.rt.queue(), self.account_id, self.settings, delay)
        log.info("drain of %s: %s; again in %.1f s", self.account_id, why, delay)
        return "again"

    def step(self, arrivals: list[Arrival], slice_s: float = SLICE_S) -> float:
        """Decide what can be decided now, acting for ``slice_s`` at most; the seconds until the
        next group is due (0: look again now)."""
        found = self._resolve(arrivals)
        self._hand_off_unknown(found.unknown)
        refused, groups = batch.classify(
            found.pending,
            {folder_id: list(listing.assets.values()) for folder_id, listing in self.listings.items()},
            self._rules,
            self.stacker.policy.separate_media_kinds,
        )
        for item in refused:
            outcome = Outcome("declined", item.declined.reason, item.declined.rule)
            self._decided(item.pending, outcome)
        self.pulses = batch.pulses(groups, found.pending, self.pulses)
        now = self.memory.now()
        around = recent.note(self.rt.redis(), self.account_id, arrivals, now, self.timing.window_s)
        until = time.monotonic() + slice_s
        for group in batch.due(groups, now, self.timing, self.pulses, around):
            if batch.lone(group, around, self.timing.window_s):
                log.info("drain of %s: %s is a lone upload, stacked without waiting", self.account_id, group.group_key)
            self._act(group)
            if time.monotonic() >= until:
                return 0.0
        next_at = batch.next_due(groups, now, self.timing, self.pulses, around)
        if found.deferred or next_at is None:
            return 0.0
        return max(0.0, next_at - self.memory.now())

    # -- finding the files ---------------------------------------------------------------------

    def _resolve(self, arrivals: list[Arrival]) -> Step:
        step = Step()
        missing = self._match(arrivals, step)
        if missing and self._refresh(missing):
            missing = self._match(missing, step)
        shows = 0
        while missing and shows < SHOWS_PER_STEP:
            shows += 1
            folders = len(self.listings)
            self._read_one_safely(missing[0], step)
            missing = missing[1:]
            if len(self.listings) > folders:  # a folder read whole may hold the rest
                missing = self._match(missing, step)
        step.deferred = len(missing)  # the next step may find them listed
        return step

    def _match(self, arrivals: Iterable[Arrival], step: Step) -> list[Arrival]:
        """Put the arrivals found uploaded in a listing into ``step``; return the others."""
        missing = []
        for arrival in arrivals:
            hit = next(
                ((listing, file) for listing in self.listings.values() if (file := listing.find(arrival.file_id))),
                None,
            )
            if hit is None or not _usable(hit[1], arrival):
                missing.append(arrival)
                continue
            listing, file = hit
            if not file.uploaded:  # listed mid-upload; the delivery itself says the bytes are in
                file = listing.assets[file.id] = replace(file, status="uploaded")
            step.pending.append(Pending(arrival, file, listing.folder_id))
        return missing

    def _refresh(self, missing: Sequence[Arrival]) -> bool:
        """Read the folders listed before the newest missing file came, newest first, while missing
        files are still unfound and a page still holds something new; not when reading the missing
        files one by one costs fewer calls (a page a folder)."""
        newest = max(arrival.at for arrival in missing)
        stale = [listing for listing in self.listings.values() if listing.read_at < newest]
        if not stale or len(stale) > len(missing):
            return False
        unfound = {arrival.file_id for arrival in missing}
        for listing in stale:
            listing.read_at = self.memory.now()
            try:
                for page in self.client.folder_pages_newest(self.account_id, listing.folder_id):
                    new = listing.take(page)
                    unfound -= {asset.id for asset in page}
                    if not unfound or not new:
                        break
            except RateLimited:
                raise
            except (PermanentError, RetryableError):
                del self.listings[listing.folder_id]  # its files are read one by one, and it afresh
        return True

    def _read_one_safely(self, arrival: Arrival, step: Step) -> None:
        try:
            self._read_one(arrival, step)
        except RateLimited:
            raise  # the account's bucket is empty: the whole drain waits its turn
        except RetryableError as exc:  # this read failed: the file's own job tries again later
            self._hand_off_arrival(arrival, self._delay(exc), str(exc), failures=1)
        except PermanentError as exc:  # the file is gone, or its folder may not be read: decided
            self._decided_arrival(arrival, Outcome("failed", str(exc), failure_code(exc)))
        except Exception:  # a bug must not hold up the account: the file's own job takes it
            log.exception("drain of %s: reading file %s failed", self.account_id, arrival.file_id)
            step.unknown.append(arrival)

    def _read_one(self, arrival: Arrival, step: Step) -> None:
        """One file the listings do not show: read it, and list its folder if that is new here."""
        try:
            file = self.client.show_file(self.account_id, arrival.file_id)
        except NotFound as exc:  # deleted, or newer than what Frame.io's reads show yet
            raise lagging(exc, self.client.platform) from exc
        parent = file.parent_id
        if not file.uploaded or parent is None or self.memory.is_known_stack(parent):
            step.unknown.append(arrival)  # a per-file job waits for it, or answers at once
            return
        if parent not in self.listings and not self._list(parent):
            step.unknown.append(arrival)  # its parent is a version stack: a per-file job answers
            return
        self.listings[parent].assets[file.id] = file  # read after the listing was (or as it was)
        step.pending.append(Pending(arrival, file, parent))

    def _list(self, folder_id: str) -> bool:
        """Read a folder whole; False when it is not a folder (a version stack)."""
        read_at = self.memory.now()
        try:
            children = self.client.list_folder_children(self.account_id, folder_id)
        except NOT_A_FOLDER:
            if is_stack(self.client, self.account_id, folder_id):
                return False
            raise
        refusal = self.scope.refusal(self.account_id, folder_id)
        self.listings[folder_id] = Listing(folder_id, {asset.id: asset for asset in children}, read_at, refusal)
        return True

    # -- acting --------------------------------------------------------------------------------

    def _act(self, group: Group) -> None:
        listing = self.listings[group.folder_id]
        members = [member.pending for member in group.members]
        if listing.refusal is not None:
            for pending in members:
                self._decided(pending, Outcome("nothing", listing.refusal.reason, listing.refusal.code))
            return
        try:
            self._stack_group(listing, group.group_key, members)
        except (LockBusy, LockLost) as exc:
            self._hand_off(members, LOCK_RETRY_S, str(exc))
        except RateLimited:
            raise  # the account's bucket is empty: the whole drain waits its turn
        except RetryableError as exc:
            self._hand_off(members, self._delay(exc), str(exc), failures=1)
        except PermanentError as exc:
            for pending in members:
                self._decided(pending, Outcome("failed", str(exc), failure_code(exc)))
        except Exception:  # a bug must not hold up the account: its own jobs take the group
            log.exception("drain of %s: group %s failed", self.account_id, group.group_key)
            self._hand_off(members, LOCK_RETRY_S, "the drain failed on this group")

    def _stack_group(self, listing: Listing, key: str, members: Sequence[Pending]) -> None:
        """Stack the group from the listing; each member gets the decision that applies to it."""
        lead = self.stacker.stack_listed(self.account_id, members[0].file, self._relevant(listing, key))
        listing.absorb(lead)
        moved = {file_id for write in lead.writes for file_id in write.file_ids}
        self._decided(members[0], lead)
        for pending in members[1:]:
            if pending.file.id in moved:  # the lead's writes took it: same story, counted once
                self._decided(pending, replace(lead, created=0, moved=0))
                continue
            outcome = self.stacker.stack_listed(self.account_id, pending.file, self._relevant(listing, key))
            listing.absorb(outcome)
            self._decided(pending, outcome)

    def _relevant(self, listing: Listing, key: str) -> list[Asset]:
        """The listing as far as one group's plan reads it: its own loose files and the stacks
        named for it (so a big folder is not parsed again for every group)."""
        return [asset for asset in listing.assets.values() if self._key(listing.folder_id, asset.name) == key]

    def _rules(self, folder_id: str) -> Rules:
        """The rules that read this folder's names (its [[scope]]'s, else the global ones)."""
        return self.stacker.naming.resolve(self.account_id, folder_id).rules

    def _parsed(self, folder_id: str, name: str) -> Parsed | Declined:
        parsed = self.names.get((folder_id, name))
        if parsed is None:
            parsed = self.names[(folder_id, name)] = parse(name, self._rules(folder_id))
        return parsed

    def _key(self, folder_id: str, name: str) -> str:
        parsed = self._parsed(folder_id, name)
        return parsed.group_key if isinstance(parsed, Parsed) else ""

    # -- handing off and recording -----------------------------------------------------------------

    def _hand_off_unknown(self, arrivals: Sequence[Arrival]) -> None:
        queue = self.rt.queue()
        for arrival in arrivals:
            enqueue_file_event(
                queue, arrival.event_type or "inbox", self.account_id, arrival.file_id, self.settings, suffix=_suffix()
            )
        self.inbox.remove(arrivals)

    def _hand_off(self, members: Sequence[Pending], delay: float, why: str, failures: int = 0) -> None:
        for pending in members:
            self._hand_off_arrival(pending.arrival, delay, why, failures, pending)

    def _hand_off_arrival(
        self, arrival: Arrival, delay: float, why: str, failures: int = 0, pending: Pending | None = None
    ) -> None:
        """The file's own job runs in ``delay`` s (it reads everything again before it writes)."""
        run = Run(self.account_id, arrival.file_id, arrival.event_type or "inbox", waits=1)
        run.again(self.rt.queue(), self.settings, delay, failures=failures)
        waiting = Outcome("waiting", f"{why}; a job of its own tries again in {delay:.1f} s", "retry")
        if pending is not None:
            waiting = replace(waiting, name=pending.file.name, folder_id=pending.folder_id)
        self._decided_arrival(arrival, waiting)

    def _decided(self, pending: Pending, outcome: Outcome) -> None:
        own = self._parsed(pending.folder_id, pending.file.name)
        outcome = replace(
            outcome,
            name=pending.file.name,
            parsed=own if isinstance(own, Parsed) else None,
            folder_id=outcome.folder_id or pending.folder_id,
            scope=outcome.scope or self.stacker.naming.resolve(self.account_id, pending.folder_id).scope,
        )
        self._decided_arrival(pending.arrival, outcome)

    def _decided_arrival(self, arrival: Arrival, outcome: Outcome) -> None:
        self._record(arrival, outcome)
        self.inbox.remove([arrival])

    def _record(self, arrival: Arrival, outcome: Outcome) -> None:
        run = Run(self.account_id, arrival.file_id, arrival.event_type or "inbox")
        record_outcome(self.rt, outcome, run)
        count_outcome(self.rt, outcome, 0.0)


def _usable(listed: FileAsset, arrival: Arrival) -> bool:
    """Can the drain decide ``arrival`` from ``listed``? Yes when the listing shows it uploaded,
    or the delivery says it is, unless the listing also left its media type out (Frame.io may
    until the upload completes): its media kind, which groups it, would then change on a later read."""
    if listed.uploaded:
        return True
    return arrival.event_type in UPLOADED_EVENTS and listed.media_type is not None


def _suffix() -> str:
    return f"_d{random.getrandbits(32):08x}"
