"""DIG lifecycle operations with EMCO's state machine, action log and error texts (section 10).

Each function raises `ModuleError` with the text EMCO's module returns; the HTTP layer
maps it per handler family.
"""

from __future__ import annotations

import dataclasses
import logging

from emco_migrate.emcosim.deploy.builder import build_context
from emco_migrate.emcosim.deploy.session import Session
from emco_migrate.emcosim.errors import ModuleError
from emco_migrate.emcosim.keys import DigId
from emco_migrate.emcosim.store.contexts import AppContext, Phase
from emco_migrate.emcosim.store.states import State, StateInfo
from emco_migrate.wire.emco import DeployedStatus, DeploymentIntentGroup

log = logging.getLogger(__name__)

RUNNING = (State.INSTANTIATED, State.INSTANTIATE_STOPPED)


def _state_info(session: Session, dig: DigId) -> StateInfo:
    info = session.states.get(dig.ref)
    if info is None:
        raise ModuleError("DeploymentIntentGroup StateInfo not found").wrap(
            f"DeploymentIntentGroup has no state info: {dig.name}"
        )
    return info


def _context(session: Session, context_id: str) -> AppContext:
    context = session.contexts.get(context_id)
    if context is None:
        raise ModuleError(f"Error getting AppContext with Id: {context_id}")
    return context


def _set_phase(session: Session, context: AppContext, phase: Phase) -> AppContext:
    changed = dataclasses.replace(context, phase=phase.value, phase_at=session.now, stopped=False)
    session.contexts.put(changed)
    return changed


def context_status(session: Session, context: AppContext) -> DeployedStatus:
    """The appcontext status now."""
    return session.rollout.context_status(context, session.rollout.views(context.id))


def approve(session: Session, dig: DigId) -> None:
    """Created/Terminated/Updated -> Approved; Approved stays (no new entry)."""
    info = _state_info(session, dig)
    state = info.current
    if state == State.APPROVED:
        return
    if state == State.INSTANTIATED:
        raise ModuleError(f"DeploymentIntentGroup has already been instantiated{dig.name}")
    if state == State.APPLIED:
        raise ModuleError(f"DeploymentIntentGroup is in an invalid state{state}")
    if state not in (State.CREATED, State.TERMINATED, State.UPDATED):
        raise ModuleError(f"DeploymentIntentGroup is in an unknown state{state}")
    session.states.put(dig.ref, info.add(State.APPROVED, session.now))


def instantiate(session: Session, dig: DigId) -> None:
    """Approved/Terminated/TerminateStopped -> Instantiated, with a new context (revision 1)."""
    group = session.objects.get(dig.ref, DeploymentIntentGroup)
    if group is None:
        raise ModuleError("DeploymentIntentGroup not found")
    info = _state_info(session, dig)
    state = info.current
    if state not in (State.APPROVED, State.TERMINATED, State.TERMINATE_STOPPED):
        if state in (State.CREATED, State.UPDATED):
            reason = f"DeploymentIntentGroup must be Approved before instantiating{dig.name}"
        elif state == State.INSTANTIATED:
            reason = f"DeploymentIntentGroup has already been instantiated{dig.name}"
        elif state == State.INSTANTIATE_STOPPED:
            reason = f"DeploymentIntentGroup has already been instantiated and stopped{dig.name}"
        else:
            reason = f"DeploymentIntentGroup is in an invalid state{state}"
        raise ModuleError(reason).wrap(
            f"Error in handleStateInfo for DeploymentIntent:: {dig.name}"
        )
    context = build_context(session, dig, group)
    session.contexts.put(context)
    session.rollout.apply(context, previous=None)
    info = info.add(State.INSTANTIATED, session.now, instance=context.id, revision=1)
    session.states.put(dig.ref, dataclasses.replace(info, status_context=context.id))


def terminate(session: Session, dig: DigId) -> None:
    """Instantiated/InstantiateStopped -> Terminated; the context's resources are deleted."""
    info = _state_info(session, dig)
    if info.current not in RUNNING:
        raise ModuleError(f"DeploymentIntentGroup is not instantiated :{dig.name}")
    context = _context(session, info.last_context)
    session.rollout.delete(context.id)
    _set_phase(session, context, Phase.TERMINATE)
    session.states.put(dig.ref, info.add(State.TERMINATED, session.now, instance=context.id))


def stop(session: Session, dig: DigId) -> None:
    """Stop an instantiation (or termination) that is still in progress."""
    info = _state_info(session, dig)
    state = info.current
    stopped = {
        State.INSTANTIATED: State.INSTANTIATE_STOPPED,
        State.TERMINATED: State.TERMINATE_STOPPED,
    }.get(state)
    if stopped is None:
        reasons = {
            State.APPROVED: f"DeploymentIntentGroup has not been instantiated:{dig.name}",
            State.APPLIED: f"DeploymentIntentGroup is in an invalid state:{dig.name}",
            State.TERMINATE_STOPPED: (
                f"DeploymentIntentGroup termination already stopped: {dig.name}"
            ),
            State.INSTANTIATE_STOPPED: (
                f"DeploymentIntentGroup instantiation already stopped: {dig.name}"
            ),
            State.CREATED: f"DeploymentIntentGroup have not been approved: {dig.name}",
        }
        raise ModuleError(
            reasons.get(state, f"DeploymentIntentGroup is in an invalid state: {dig.name} {state}")
        )
    context = _context(session, info.last_context)
    if context_status(session, context) not in (
        DeployedStatus.INSTANTIATING,
        DeployedStatus.TERMINATING,
    ):
        raise ModuleError(f"DeploymentIntentGroup is not instantiating or terminating:{dig.name}")
    session.rollout.stop(context.id)
    session.contexts.put(dataclasses.replace(context, stopped=True))
    session.states.put(dig.ref, info.add(stopped, session.now, instance=context.id))


def _move(session: Session, current: AppContext, target: AppContext) -> None:
    """rsync's update: apply ``target``, then delete what it no longer has from ``current``."""
    session.contexts.put(target)
    if target.id != current.id:
        session.rollout.apply(target, previous=current.id)
        session.rollout.delete(current.id)
        _set_phase(session, current, Phase.UPDATED)


def update(session: Session, dig: DigId) -> int:
    """Re-resolve the DIG's intents into a new context; returns the new revision."""
    info = _state_info(session, dig)
    if info.current not in RUNNING:
        raise ModuleError(f"DeploymentIntentGroup is not instantiated :{dig.name}")
    group = session.objects.get(dig.ref, DeploymentIntentGroup)
    if group is None:
        raise ModuleError("DeploymentIntentGroup not found")
    current = _context(session, info.last_context)
    target = build_context(session, dig, group)
    _move(session, current, target)
    revision = info.revision
    info = info.add(State.UPDATED, session.now, instance=current.id, revision=revision)
    info = info.add(State.INSTANTIATED, session.now, instance=target.id, revision=revision + 1)
    session.states.put(dig.ref, info)
    log.info("updated %s to revision %d (context %s)", dig.ref.key, revision + 1, target.id)
    return revision + 1


def rollback(session: Session, dig: DigId, revision_text: str) -> None:
    """Go back to the context of the first log entry with that revision (no state check)."""
    info = _state_info(session, dig)
    try:
        wanted = int(revision_text, 10)
    except ValueError:
        raise ModuleError(f'strconv.ParseInt: parsing "{revision_text}": invalid syntax') from None
    match = next((a for a in info.actions or [] if a.revision == wanted), None)
    if match is None or not match.instance:
        raise ModuleError("No matching ContextId found")
    current = _context(session, info.last_context)
    target = _set_phase(session, _context(session, match.instance), Phase.INSTANTIATE)
    _move(session, current, target)
    revision = info.revision
    info = info.add(State.UPDATED, session.now, instance=current.id, revision=revision)
    info = info.add(State.INSTANTIATED, session.now, instance=target.id, revision=revision + 1)
    session.states.put(dig.ref, info)


def migrate(session: Session, dig: DigId, target_version: str, target_name: str) -> None:
    """Move the deployment to an approved DIG of another version of the composite app."""
    info = _state_info(session, dig)
    if info.current not in RUNNING:
        raise ModuleError(f"DeploymentIntentGroup is not instantiated :{dig.name}")
    target_dig = dig.sibling(target_version, target_name)
    if target_dig == dig:
        raise ModuleError("The target of a migration must be another DeploymentIntentGroup")
    group = session.objects.get(target_dig.ref, DeploymentIntentGroup)
    target_info = session.states.get(target_dig.ref)
    if group is None or target_info is None:
        raise ModuleError(
            f"Target DeploymentIntentGroup {target_name} of {target_version} is missing"
        )
    if target_info.current != State.APPROVED:
        raise ModuleError(f"Target DeploymentIntentGroup is not approved: {target_name}")
    current = _context(session, info.last_context)
    context = build_context(session, target_dig, group)
    session.contexts.put(context)
    session.rollout.apply(context, previous=None)
    session.rollout.delete(current.id)
    _set_phase(session, current, Phase.UPDATED)
    session.states.put(
        dig.ref, info.add(State.UPDATED, session.now, instance=current.id, revision=info.revision)
    )
    target_info = target_info.add(State.INSTANTIATED, session.now, instance=context.id, revision=1)
    session.states.put(target_dig.ref, dataclasses.replace(target_info, status_context=context.id))


def check_deletable(session: Session, dig: DigId) -> None:
    """A DIG may only be deleted once it is not deployed and not being terminated."""
    info = session.states.get(dig.ref)
    if info is None:
        return
    if info.current in RUNNING:
        raise ModuleError(f"DeploymentIntentGroup must be terminated before deletion: {dig.name}")
    if info.current in (State.TERMINATED, State.TERMINATE_STOPPED) and info.last_context:
        context = session.contexts.get(info.last_context)
        if context is not None and context_status(session, context) == DeployedStatus.TERMINATING:
            raise ModuleError(f"DeploymentIntentGroup is still terminating: {dig.name}")
