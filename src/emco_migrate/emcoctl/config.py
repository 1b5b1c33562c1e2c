"""emcoctl's configuration file: the host and port of each EMCO service, or one ingress.

Same file as the real emcoctl's ``--config`` (default ``$HOME/.emco.yaml``): one mapping per
service (``orchestrator``, ``clm``, ``dcm``, ``ncm``, ``workflowmgr``, ...), each with
``host`` and ``port`` (keys are case-insensitive, as viper reads them), or an ``ingress``
entry that then serves every service. As in emcoctl, the built-in defaults (``localhost`` and
each service's standard port) apply only when there is no configuration file at all; a file
must name every service the documents need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from emco_migrate.emcoctl.goyaml import GoYamlError, load_first


class Service(StrEnum):
    """The EMCO services emcoctl can route an anchor to (configuration key in lower case)."""

    ORCHESTRATOR = "orchestrator"
    CLM = "clm"
    NCM = "ncm"
    DCM = "dcm"
    OVNACTION = "ovnaction"
    GAC = "gac"
    DTC = "dtc"
    HPAPLACEMENT = "hpaplacement"
    SFC = "sfc"
    SFCCLIENT = "sfcclient"
    WORKFLOWMGR = "workflowmgr"
    TAC = "tac"
    CACERT = "cacert"


# emcoctl's SetDefaultConfiguration (src/tools/emcoctl/cmd/config.go).
DEFAULT_HOST = "localhost"
DEFAULT_PORTS: dict[Service, int] = {
    Service.ORCHESTRATOR: 9015,
    Service.CLM: 9061,
    Service.NCM: 9081,
    Service.DCM: 9077,
    Service.OVNACTION: 9051,
    Service.GAC: 9020,
    Service.DTC: 9018,
    Service.HPAPLACEMENT: 9091,
    Service.SFC: 9055,
    Service.SFCCLIENT: 9057,
    Service.WORKFLOWMGR: 9095,
    Service.TAC: 9064,
    Service.CACERT: 9036,
}
DEFAULT_CONFIG = Path("~/.emco.yaml")
API_VERSION = "v2"

# Keys of the real configuration struct that name no REST service we route to.
_OTHER_KEYS = {"ingress", "rsync"}


class ConfigError(ValueError):
    """A configuration file emcoctl could not use."""


@dataclass(frozen=True)
class Endpoint:
    """Where one service listens."""

    host: str
    port: int

    def base_url(self) -> str:
        """``http://host:port/v2`` (IPv6 hosts in brackets, like Go's net.JoinHostPort)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/{API_VERSION}"


@dataclass(frozen=True)
class EmcoctlConfig:
    """Service endpoints; ``ingress`` (when set) serves every service."""

    services: dict[Service, Endpoint] = field(default_factory=dict)
    ingress: Endpoint | None = None
    source: Path | None = None

    @classmethod
    def defaults(cls) -> EmcoctlConfig:
        """Every service on localhost at its standard port (emcoctl without a config file)."""
        return cls({s: Endpoint(DEFAULT_HOST, p) for s, p in DEFAULT_PORTS.items()})

    @classmethod
    def from_text(cls, text: str, source: Path | None = None) -> EmcoctlConfig:
        """Parse a configuration file's YAML text; raises `ConfigError`."""
        where = str(source) if source else "configuration"
        try:
            data = load_first(text)
        except GoYamlError as err:
            raise ConfigError(f"{where}: {err}") from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a mapping of service names to host/port")
        services: dict[Service, Endpoint] = {}
        ingress: Endpoint | None = None
        names = {s.value for s in Service}
        for raw_key, raw_value in data.items():
            key = str(raw_key).lower()
            if key not in names and key not in _OTHER_KEYS:
                continue  # viper ignores keys the struct does not have
            endpoint = _endpoint(raw_value, f"{where}: {raw_key}")
            if endpoint is None:
                continue
            if key == "ingress":
                ingress = endpoint
            elif key in names:
                services[Service(key)] = endpoint
        return cls(services, ingress, source)

    @classmethod
    def load(cls, path: Path) -> EmcoctlConfig:
        """Read a configuration file; raises `ConfigError`."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"cannot read configuration file {path}: {err.strerror}") from None
        except UnicodeDecodeError as err:
            raise ConfigError(
                f"configuration file {path} is not UTF-8 text: {err.reason} at byte {err.start}"
            ) from None
        return cls.from_text(text, path)

    def base_url(self, service: Service) -> str:
        """The service's ``http://host:port/v2``; raises `ConfigError` if it is not configured."""
        if self.ingress is not None:
            return self.ingress.base_url()
        endpoint = self.services.get(service)
        if endpoint is None:
            where = self.source or "the configuration"
            raise ConfigError(
                f"no host/port for {service.value} in {where} "
                f"(add `{service.value}: {{host: ..., port: ...}}` or an `ingress` entry)"
            )
        return endpoint.base_url()


def _endpoint(value: Any, where: str) -> Endpoint | None:
    """host/port of one entry; None when either is missing (emcoctl treats it as absent)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping with host and port")
    fields = {str(k).lower(): v for k, v in value.items()}
    host = fields.get("host")
    port = fields.get("port")
    if host is None or port is None or host == "":
        return None
    if isinstance(port, str) and port.strip().isdigit():
        port = int(port)  # viper decodes weakly: "9015" is accepted
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"{where}: port must be a number from 1 to 65535, got {port!r}")
    return Endpoint(str(host), port)


def find_config(explicit: str | None) -> EmcoctlConfig:
    """The configuration to use: ``--config``, else ``~/.emco.yaml``, else the defaults.

    Unlike emcoctl, a ``--config`` file that cannot be read is an error rather than a silent
    fall-back to the defaults.
    """
    if explicit:
        return EmcoctlConfig.load(Path(explicit))
    default = DEFAULT_CONFIG.expanduser()
    if default.is_file():
        return EmcoctlConfig.load(default)
    return EmcoctlConfig.defaults()
