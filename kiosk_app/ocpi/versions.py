"""OCPI versions we speak, our version details, and version negotiation."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk_app.ocpi.envelope import OcpiError, Status

log = logging.getLogger(__name__)

SUPPORTED = ("2.1.1", "2.2.1", "2.3.0")

# Our role per version: eMSP for 2.1.1 and 2.2.1 (one-time AD_HOC_USER tokens), PTP for 2.3.0.
# (module id, our role, our path below the version base). 2.1.1 has no roles in its details.
_MODULES = {
    "2.1.1": [
        ("credentials", "SENDER", "credentials"),
        ("locations", "RECEIVER", "locations"),
        ("tariffs", "RECEIVER", "tariffs"),
        ("sessions", "RECEIVER", "sessions"),
        ("cdrs", "RECEIVER", "cdrs"),
        ("commands", "SENDER", "commands"),
        ("tokens", "SENDER", "tokens"),
    ],
}
_MODULES["2.2.1"] = _MODULES["2.1.1"]
_MODULES["2.3.0"] = [*_MODULES["2.2.1"], ("payments", "SENDER", "payments")]

# Modules we need on the CPO's side, with the role the CPO plays in them.
REQUIRED_PEER_MODULES = {"locations": "SENDER", "commands": "RECEIVER"}
OPTIONAL_PEER_MODULES = {
    "tariffs": "SENDER",
    "sessions": "SENDER",
    "cdrs": "SENDER",
    "tokens": "RECEIVER",
    "payments": "RECEIVER",
}


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def negotiate(theirs: list[str], ours: tuple[str, ...] = SUPPORTED) -> str:
    """The highest version both sides speak; OCPI 3002 when there is none."""
    common = set(theirs) & set(ours)
    if not common:
        raise OcpiError(
            Status.UNSUPPORTED_VERSION,
            f"no common OCPI version: peer offers {sorted(theirs)}, we speak {list(ours)}",
        )
    return max(common, key=_key)


def versions_document(base_url: str) -> list[dict]:
    """Our `versions` answer."""
    return [{"version": v, "url": f"{base_url}/{v}/details"} for v in SUPPORTED]


def module_base(base_url: str, version: str) -> str:
    """Where our functional modules live for `version` (role prefix as in the spec examples)."""
    role = "ptp" if version == "2.3.0" else "emsp"
    return f"{base_url}/{role}/{version}"


def details_document(base_url: str, version: str) -> dict:
    """Our version details for `version`."""
    if version not in SUPPORTED:
        raise OcpiError(Status.UNSUPPORTED_VERSION, f"unsupported version {version}", 404)
    base = module_base(base_url, version)
    endpoints = []
    for module, role, path in _MODULES[version]:
        url = f"{base_url}/{version}/credentials" if module == "credentials" else f"{base}/{path}"
        entry = {"identifier": module, "url": url}
        if version != "2.1.1":
            entry["role"] = role
        endpoints.append(entry)
    return {"version": version, "endpoints": endpoints}


@dataclass(frozen=True)
class Endpoint:
    identifier: str
    role: str | None
    url: str


def parse_versions(data: object) -> dict[str, str]:
    """A peer's `versions` answer as {version: details url}."""
    if not isinstance(data, list):
        raise OcpiError(Status.CLIENT_API_UNUSABLE, "versions: expected a list")
    found = {}
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("version"), str):
            raise OcpiError(Status.CLIENT_API_UNUSABLE, f"versions[{i}].version: missing")
        if not isinstance(item.get("url"), str):
            raise OcpiError(Status.CLIENT_API_UNUSABLE, f"versions[{i}].url: missing")
        found[item["version"]] = item["url"]
    return found


def peer_endpoints(data: object) -> dict[str, str]:
    """A peer CPO's version details as {module: url}, for the modules we call on it.

    A module listed with the role we need (or without a role, 2.1.1) wins. A needed module the
    peer forgot to list while its siblings sit side by side under one base (…/cpo/2.2.1/<module>)
    is derived from that base, with a warning: some CPOs mount `commands` but do not announce it.
    """
    if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
        raise OcpiError(Status.CLIENT_API_UNUSABLE, "version details: endpoints missing")
    wanted = {**REQUIRED_PEER_MODULES, **OPTIONAL_PEER_MODULES}
    found: dict[str, str] = {}
    for item in data["endpoints"]:
        if not isinstance(item, dict):
            continue
        module, role, url = item.get("identifier"), item.get("role"), item.get("url")
        if module in wanted and isinstance(url, str) and (role in (None, wanted[module])):
            found[module] = url
    for module in REQUIRED_PEER_MODULES:
        if module not in found:
            derived = _derive(found, module)
            if derived is None:
                raise OcpiError(
                    Status.NO_MATCHING_ENDPOINTS, f"peer does not offer the {module} module"
                )
            log.warning("peer does not list %s; using %s", module, derived)
            found[module] = derived
    return found


def _derive(found: dict[str, str], module: str) -> str | None:
    for sibling, url in found.items():
        stripped = url.rstrip("/")
        if stripped.endswith("/" + sibling):
            return stripped[: -len(sibling)] + module + ("/" if url.endswith("/") else "")
    return None
