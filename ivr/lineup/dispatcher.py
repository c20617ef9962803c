"""The callback dispatcher: calls citizens back when their place in line comes up.

Every ``tick_s`` the dispatcher of each instance tries to take (or keep) the
leader lease; only the leader dials. The leader puts expired claims back to
PENDING (an instance that died mid-call), asks :func:`ivr.lineup.dispatch_policy.choose`
which callbacks to dial, and for each one first **claims** it in the store
(PENDING -> DIALING, one more attempt, until ``ring_timeout_s + claim_margin_s``
from now), then sends an asynchronous ``Originate`` to the citizen through the
trunk, into the ``callback-citizen`` dialplan.

Asterisk reports the outcome in an ``OriginateResponse`` carrying the ActionID:

* ``Failure`` (reason 3 no answer, 5 busy, 8 congestion, anything else failed):
  the claim is released, back to PENDING not before the retry time (respecting
  business hours), or FAILED once ``max_attempts`` are used;
* ``Success`` means the citizen answered: the call is in the dialplan, whose
  FastAGI route asks them to press 1 and reports with :meth:`on_answer_result`
  (1 pressed: CONNECTED and into the queue at the head; otherwise released as
  ``no-confirm``, to be retried).

Nothing is lost or doubled:

* the claim is atomic in Redis, so even two instances that both believe they
  lead never dial the same request twice;
* a dispatcher that dies after claiming leaves a DIALING request whose claim
  expires; the next leader puts it back to PENDING and dials it once. The claim
  margin must cover the confirmation dialog after the answer, so a citizen
  still listening is not called a second time;
* once the citizen pressed 1 the request is accepted (the route writes it before
  "connecting you") and never dialled again: its claim then runs only until the
  "connected" reported after that prompt is due, and when the instance died
  before reporting it, the next leader closes it as CONNECTED when it expires (the
  dialplan queued the citizen) and lets the agent held for it go;
* an ``Originate`` whose reply never came (the AMI dropped) keeps its claim
  until it expires, because the call may have been placed.


With ``reserve_agent`` the agent counted for a callback is held (paused) while the
citizen is rung and asked for 1: :mod:`ivr.lineup.holds`. What the dispatcher is
given (settings, store, AMI, live queues) is in :mod:`ivr.lineup.ports`; the rules
it applies are pure and live apart (:mod:`ivr.lineup.dispatch_policy`,
:mod:`ivr.callbacks.policy`).

Phone numbers appear in logs masked only (PDPA).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from ivr.ami.client import AmiError, AmiTimeout
from ivr.ami.events import OriginateResponse, QueueCallerJoin
from ivr.callbacks import policy
from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.lineup import dispatch_policy
from ivr.lineup.holds import AgentHolds
from ivr.lineup.ports import AmiLike, CallbackStoreLike, DispatcherConfig, QueuesProvider
from ivr.log import fields
from ivr.phones import dialable
from ivr.privacy import mask_phone
from ivr.queues.state import QueueState
from ivr.store.lease import LeaderLease

__all__ = ["CallbackDispatcher", "originate_result"]

callback_log = logging.getLogger("ivr.callbacks")

#: ``OriginateResponse`` ``Reason`` (Asterisk's AST_CONTROL_*) -> ``last_result``.
REASON_RESULTS: Mapping[int, str] = {3: "no-answer", 5: "busy", 8: "congestion"}


def originate_result(reason: int | None) -> str:
    """The ``last_result`` of a failed attempt from the ``OriginateResponse`` reason."""
    return REASON_RESULTS.get(reason if reason is not None else -1, "failed")


@dataclass
class _Dial:
    """One Originate this dispatcher sent and has not yet seen the end of."""

    request: CallbackRequest  # as claimed (attempts counted, dialing_until set)
    action_id: str
    sent_at: float
    answered: bool = False


class CallbackDispatcher:
    """Dials pending callbacks as their places come up; only the lease holder dials."""

    def __init__(
        self,
        store: CallbackStoreLike,
        lease: LeaderLease,
        ami: AmiLike,
        queues_provider: QueuesProvider,
        config: DispatcherConfig,
        instance_id: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.lease = lease
        self.ami = ami
        self.queues_provider = queues_provider
        self.config = config
        self.instance_id = instance_id
        self.clock = clock
        self._dials: dict[str, _Dial] = {}  # by ActionID
        self.holds = AgentHolds(store, ami, queues_provider, config)
        self._unsubscribe: Callable[[], None] | None = None
        self._unsubscribe_join: Callable[[], None] | None = None
        self._ami_down_logged = False
        self._closed = False
        self.originated = 0  # Originate actions sent by this dispatcher
        self.ticks = 0  # ticks run (done or failed): tests wait for them, not for time

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Tick every ``tick_s`` until cancelled; errors of one tick are logged."""
        self._subscribe()
        me = asyncio.current_task()
        while not self._closed:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as e:
                callback_log.error(
                    "callback dispatch tick failed (Redis)",
                    extra=fields(instance=self.instance_id, error=str(e) or type(e).__name__),
                )
            except Exception:
                callback_log.exception(
                    "callback dispatch tick failed", extra=fields(instance=self.instance_id)
                )
            self.ticks += 1
            if me is not None and me.cancelling():
                # redis-py may swallow a cancellation that lands inside a command
                raise asyncio.CancelledError
            await asyncio.sleep(self.config.tick_s)

    async def close(self) -> None:
        """Stop listening, let held agents go back to work and give the lease up
        (calls in progress keep their claims: the citizen still joins at the head)."""
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._unsubscribe_join is not None:
            self._unsubscribe_join()
            self._unsubscribe_join = None
        if self.holds:
            try:
                async with asyncio.timeout(5.0):
                    await self.holds.release_all(why="shutdown")
            except (TimeoutError, RedisError, OSError):
                callback_log.warning(
                    "held agents not all released at shutdown: the next leader does it",
                    extra=fields(instance=self.instance_id, held=len(self.holds)),
                )
        await self.lease.release()

    @property
    def in_flight(self) -> int:
        """Originates sent whose outcome (or answer result) is not known yet."""
        return len(self._dials)

    # ------------------------------------------------------------------ one tick

    async def tick(self) -> list[str]:
        """One round: lead or not, reclaim, choose, claim and dial. Returns the ids dialled."""
        self._subscribe()
        if not self.ami.connected:
            if not self._ami_down_logged:
                callback_log.warning(
                    "AMI not connected: no callbacks placed until it is back",
                    extra=fields(instance=self.instance_id),
                )
                self._ami_down_logged = True
            if self.lease.is_leader:
                await self.lease.release()  # let an instance that can dial lead
            return []
        if self._ami_down_logged:
            callback_log.info(
                "AMI back: placing callbacks", extra=fields(instance=self.instance_id)
            )
            self._ami_down_logged = False
        if not await self.lease.acquire():
            return []
        now = self.clock()
        self._forget_expired(now)
        await self.store.reclaim_expired(now)
        states = await self.queues_provider()
        if self.config.reserve_agent:
            await self.holds.release_stale(states, now)
        pending = {queue: await self.store.pending(queue) for queue in states}
        chosen = dispatch_policy.choose(
            states,
            pending,
            now,
            wrapup_grace_s=self.config.wrapup_grace_s,
            wrapup_s=self.config.wrapup_s,
            hours_for_queue=self.config.hours_for_queue,
            closed=await self.config.closed_queues(),
        )
        dialled: list[str] = []
        for req in chosen:
            if not self.lease.is_leader or self._closed:
                break
            if await self._dial(req, states):
                dialled.append(req.id)
        return dialled

    async def _dial(self, req: CallbackRequest, states: Mapping[str, QueueState]) -> bool:
        """Claim ``req``, hold an agent for it and send its Originate.

        True when the citizen's phone may be ringing (the outcome comes later).
        """
        cfg = self.config
        now = self.clock()
        until = now + cfg.ring_timeout_s + cfg.claim_margin_s
        claimed = await self.store.claim(req.id, self.instance_id, until)
        if claimed is None:
            return False  # another instance has it, or it changed since we read it
        log_fields = {
            "callback": claimed.id,
            "queue": claimed.queue,
            "number": mask_phone(claimed.number),
            "attempt": claimed.attempts,
            "instance": self.instance_id,
        }
        if not dialable(claimed.number):
            callback_log.error("callback number cannot be dialled", extra=fields(**log_fields))
            await self.store.release(claimed.id, self.instance_id, "invalid-number", None, 0)
            return False
        if cfg.reserve_agent:
            await self.holds.hold(claimed, states.get(claimed.queue), now)
        return await self._originate(claimed, now, log_fields)

    async def _originate(
        self, claimed: CallbackRequest, now: float, log_fields: dict[str, Any]
    ) -> bool:
        """Send the Originate of a claimed callback; False if it surely did not go out."""
        cfg = self.config
        action_id = f"cb-{claimed.id}-{claimed.attempts}-{uuid.uuid4().hex[:8]}"
        self._dials[action_id] = _Dial(claimed, action_id, now)  # the response may come at once
        try:
            await self.ami.originate(
                cfg.dial_template.format(number=claimed.number),
                cfg.context,
                cfg.exten,
                variables=self._variables(claimed),
                caller_id=cfg.caller_id_for_hotline(claimed.hotline),
                timeout_ms=int(cfg.ring_timeout_s * 1000),
                action_id=action_id,
            )
        except AmiTimeout:
            # the call may have gone out: keep the claim, it expires if nothing comes
            callback_log.warning(
                "callback Originate not acknowledged: claim kept until it expires",
                extra=fields(**log_fields),
            )
            return True
        except AmiError as e:
            self._dials.pop(action_id, None)
            callback_log.warning(
                "callback Originate refused", extra=fields(**log_fields, error=str(e))
            )
            await self._attempt_ended(claimed, "failed")
            return False
        except asyncio.CancelledError:
            # stopped while sending: the claim expires and is reclaimed
            self._dials.pop(action_id, None)
            raise
        except Exception:
            # a bug or an unexpected reply: count the attempt, try again after the delay
            self._dials.pop(action_id, None)
            callback_log.exception("callback Originate failed", extra=fields(**log_fields))
            await self._attempt_ended(claimed, "failed")
            return False
        self.originated += 1
        callback_log.info("calling citizen back", extra=fields(**log_fields))
        return True

    def _variables(self, req: CallbackRequest) -> dict[str, str]:
        variables = {
            "IVR_CALLBACK_ID": req.id,
            "IVR_QUEUE": req.queue,
            "IVR_HOTLINE": req.hotline,
            "IVR_TOPIC": req.topic,
            "IVR_LANGUAGE": req.language,
            "IVR_ARRIVED_AT": f"{req.arrived_at:.3f}",
            "IVR_CALLBACK_ATTEMPT": str(req.attempts),
        }
        # an AMI header cannot hold a line break
        return {k: " ".join(v.splitlines()) for k, v in variables.items()}

    # ------------------------------------------------------------------ outcomes

    async def on_originate_response(self, event: OriginateResponse) -> None:
        """The outcome of one of our Originates (others' are ignored)."""
        dial = self._dials.get(event.action_id)
        if dial is None:
            return
        req = dial.request
        if event.success:
            dial.answered = True
            self.holds.answered(req.id, event.channel)  # released when it joins the queue
            callback_log.info(
                "citizen answered the callback",
                extra=fields(callback=req.id, queue=req.queue, attempt=req.attempts),
            )
            return
        self._dials.pop(event.action_id, None)
        result = originate_result(event.reason)
        callback_log.info(
            "callback not answered",
            extra=fields(
                callback=req.id,
                queue=req.queue,
                number=mask_phone(req.number),
                attempt=req.attempts,
                result=result,
                reason=event.reason,
            ),
        )
        await self._attempt_ended(req, result)

    async def on_answer_result(self, callback_id: str, confirmed: bool) -> None:
        """Called by the FastAGI route of the answered call: the citizen pressed 1
        (``confirmed``: CONNECTED, the dialplan puts them at the head of the queue)
        or not (hung up, no key, another key: retried later, or FAILED)."""
        for action_id, dial in list(self._dials.items()):
            if dial.request.id == callback_id:
                del self._dials[action_id]
        if confirmed:  # the held agent is released when the citizen joins the queue
            done = await self.store.mark_connected(callback_id)
            callback_log.info(
                "callback connected" if done is not None else "callback confirmed too late",
                extra=fields(callback=callback_id, instance=self.instance_id),
            )
            return
        await self.holds.release(callback_id)
        # The route may run on another instance than the one that dialled:
        # release on behalf of the holder of the claim.
        req = await self.store.get(callback_id)
        if req is None or req.status is not CallbackStatus.DIALING:
            return
        await self._retry_later(req, "no-confirm", holder=req.dialing_by)

    async def _attempt_ended(self, req: CallbackRequest, result: str) -> None:
        """An attempt of ours ended without the citizen: free its agent, retry later."""
        await self.holds.release(req.id)
        await self._retry_later(req, result)

    async def _retry_later(
        self, req: CallbackRequest, result: str, *, holder: str | None = None
    ) -> None:
        cfg = self.config
        now = self.clock()
        when = policy.retry_at(req, now, cfg.retry_delay_s, cfg.hours_for_queue(req.queue))
        done = await self.store.release(
            req.id, holder or self.instance_id, result, when, cfg.max_attempts
        )
        status = getattr(done, "status", None)
        callback_log.info(
            "callback released",
            extra=fields(
                callback=req.id,
                result=result,
                attempt=req.attempts,
                status=str(status) if status is not None else "not-held",
                retry_at=when if status is CallbackStatus.PENDING else None,
            ),
        )

    # ------------------------------------------------------------------ internals

    def _subscribe(self) -> None:
        if self._unsubscribe is None and not self._closed:
            self._unsubscribe = self.ami.subscribe(OriginateResponse, self.on_originate_response)
        if self._unsubscribe_join is None and not self._closed and self.config.reserve_agent:
            self._unsubscribe_join = self.ami.subscribe(QueueCallerJoin, self.holds.on_join)

    def _forget_expired(self, now: float) -> None:
        """Stop waiting for outcomes of dials whose claim has expired (reclaimed now)."""
        for action_id, dial in list(self._dials.items()):
            if dial.request.dialing_until <= now:
                del self._dials[action_id]
