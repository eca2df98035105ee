"""The one exception root of spikekit.

Every error the package raises on purpose derives from :class:`SpikekitError`
and carries its context (file, service, fault, ...). Only the CLI turns them
into messages and exit codes (see :mod:`spikekit.cli.exit_codes`)::

    SpikekitError
    ├── ConfigError                 bad usage or configuration (exit 2)
    │   ├── ScenarioError           a scenario file is invalid: file, field path, expectation
    │   └── InputLimitError         a user file or value is past a safety bound (bytes, YAML
    │                               nodes after aliases, nesting depth): fail fast, exit 2
    ├── StackError                  the bundled platform could not start, stop or be found
    │   └── ServiceStartError       one service/backing process failed to become healthy
    ├── ToxiproxyError              the Toxiproxy API refused or did not answer
    ├── ChaosError                  a fault could not be injected or reverted
    │   ├── FaultConfigError        a fault's parameters or target do not fit (also a ConfigError)
    │   └── UnsafeTargetError       a target outside 127.0.0.0/8 without --allow-target (also)
    ├── LoadError                   the load generator failed
    │   ├── load.process_args.ArgvError   a Locust process's command line is wrong
    │   └── load.protocol.ProtocolError   a master↔worker message breaks its model
    ├── load.http.HttpFailure       a player's request got no usable answer (recorded, never
    │                               raised): ConnectionClosed, BadAnswer, UnexpectedStatus
    ├── RunAborted                  a run ended early: stop condition, Ctrl-C (exit 3)
    └── (service domains of the reference platform, each its own subtree)
        ├── wallet.domain.WalletError         InvalidAmount, UnknownPlayer, TransactionMismatch,
        │                                     WalletUnavailable, DuplicateTransaction
        ├── auth.domain.AuthError             UsernameTaken, InvalidCredentials, InvalidSession,
        │                                     RateLimited, Overloaded, AuthUnavailable
        ├── payments.domain.PaymentError      InvalidTransition, IdempotencyMismatch, Unavailable,
        │                                     QueueFull, NotFound
        ├── reporting.domain.ReportingError   BadEvent
        ├── gateway.domain.GatewayError       an answer of the players' API, by code
        ├── router: service.RouterError, breakers.BreakerOpen, provider_client.ProviderFailed
        ├── providers: rounds.RoundError, faults.Rejected, wallet_client.WalletCallError
        └── common: errors.ApiError (an HTTP error answer), http_client.TransportError
            (no HTTP answer), service_auth.ServiceAuthError (401 / 403 between services)

    The audit's AuditUnavailable is a StackError.
"""

from __future__ import annotations


class SpikekitError(Exception):
    """Root of every error spikekit raises on purpose."""


class ConfigError(SpikekitError):
    """Bad usage or configuration; the CLI exits with code 2."""


class ScenarioError(ConfigError):
    """A scenario file is invalid.

    The message names the file, the field path and what was expected.
    """

    def __init__(self, file: str, problems: list[tuple[str, str]]) -> None:
        self.file = file
        self.problems = problems
        lines = [f"{file}: invalid scenario"]
        lines += [f"  {path or '<root>'}: {expected}" for path, expected in problems]
        super().__init__("\n".join(lines))


class InputLimitError(ConfigError):
    """A user file or value is past a safety bound; nothing in it was built.

    ``source`` names the file (or option), ``where`` the place in it (``""`` for the
    whole of it) and ``limit`` the bound, worded as what was expected.
    """

    def __init__(self, source: str, where: str, limit: str) -> None:
        self.source = source
        self.where = where
        self.limit = limit
        super().__init__(f"{source}: {where or '<root>'}: {limit}")


class StackError(SpikekitError):
    """The bundled platform could not be started, stopped or found."""


class ServiceStartError(StackError):
    """A service or backing process did not become healthy."""

    def __init__(self, service: str, reason: str, log_file: str | None = None) -> None:
        self.service = service
        self.reason = reason
        self.log_file = log_file
        where = f" (log: {log_file})" if log_file else ""
        super().__init__(f"{service} did not start: {reason}{where}")


class ToxiproxyError(SpikekitError):
    """The Toxiproxy API refused a request or did not answer."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class ChaosError(SpikekitError):
    """A fault could not be injected or reverted."""

    def __init__(self, fault: str, message: str) -> None:
        self.fault = fault
        super().__init__(f"{fault}: {message}")


class FaultConfigError(ChaosError, ConfigError):
    """A fault's parameters or target do not fit (unknown link, no such table ...): exit 2."""


class UnsafeTargetError(ChaosError, ConfigError):
    """A target outside this machine was named without ``--allow-target``: exit 2."""


class LoadError(SpikekitError):
    """The load generator failed."""


class RunAborted(SpikekitError):
    """A run ended before its planned end (stop condition, Ctrl-C, generator failure)."""
