"""Who and where a state change comes from, for services that should not have to pass it.

The request middleware binds a RequestContext for each request; tasks and management
commands run inside ``system_job(name)``, which names the system actor and gives the run a
request id of its own so its events and log lines can be followed together.
"""

import logging
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip: str | None = None
    user_agent: str = ""


_request: ContextVar[RequestContext | None] = ContextVar("audit_request", default=None)
_system_job: ContextVar[str | None] = ContextVar("audit_system_job", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request() -> RequestContext | None:
    return _request.get()


def current_system_job() -> str | None:
    return _system_job.get()


@contextmanager
def bound_request(context: RequestContext):
    token = _request.set(context)
    try:
        yield context
    finally:
        _request.reset(token)


@contextmanager
def system_job(name: str):
    """Run the block as the named system actor (a beat task, a command)."""
    job_token = _system_job.set(name)
    try:
        if current_request() is None:
            with bound_request(RequestContext(request_id=new_request_id())):
                yield
        else:
            yield
    finally:
        _system_job.reset(job_token)


class RequestContextLogFilter(logging.Filter):
    """Adds ``request_id`` to every log record ("-" outside a request or job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = current_request()
        record.request_id = context.request_id if context else "-"
        return True
