"""The endpoint's settings: every limit named, with a safe default, settable as DIPLOKG_<NAME>."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from graph.errors import DEFAULT_ALLOWED_SERVICES
from graph.layout import DEFAULT_DIST

#: The change log's file name in an oxigraph:DIR store (graph.stores.oxigraph.CHANGE_LOG).
CHANGE_LOG = "diplokg-changes.rdfp"

ENV_PREFIX = "DIPLOKG_"


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class Settings:
    """Everything the server can be told; read from the environment and the CLI, never at import."""

    host: str = field(
        default="127.0.0.1", metadata=_doc("Interface to bind (loopback by default).")
    )
    port: int = field(default=8000, metadata=_doc("TCP port to listen on."))
    dataset: Path = field(default=DEFAULT_DIST, metadata=_doc("Build directory that is served."))
    store: str = field(
        default="oxigraph",
        metadata=_doc(
            "Store: oxigraph (in memory), oxigraph:DIR, memory (rdflib) or "
            "sparql:QUERY_URL[,UPDATE_URL]."
        ),
    )
    workers: int = field(default=2, metadata=_doc("Query worker processes, each with the store."))
    query_timeout: float = field(
        default=30.0, metadata=_doc("Seconds a query may wait and run before it is stopped.")
    )
    max_rows: int = field(
        default=10_000, metadata=_doc("Most rows (SELECT) or triples (CONSTRUCT) returned.")
    )
    max_body_bytes: int = field(
        default=1_000_000, metadata=_doc("Largest request body accepted; larger is 413.")
    )
    allowed_services: tuple[str, ...] = field(
        default=DEFAULT_ALLOWED_SERVICES,
        metadata=_doc("SERVICE endpoints a query may call (comma-separated IRIs)."),
    )
    result_cache_entries: int = field(
        default=1024, metadata=_doc("Serialized results kept in the LRU cache (0: off).")
    )
    result_cache_max_bytes: int = field(
        default=1_000_000, metadata=_doc("Largest single result body that is cached.")
    )
    cors_origins: tuple[str, ...] = field(
        default=("*",), metadata=_doc("Origins allowed by CORS (comma-separated).")
    )
    log_level: str = field(default="info", metadata=_doc("Log level; debug logs query texts."))
    write_tokens: str = field(
        default="",
        metadata=_doc(
            "File of name:token lines; enables /update, Graph Store writes and reverts for those "
            "tokens (needs oxigraph:DIR or sparql:QUERY_URL,UPDATE_URL). Empty: read-only."
        ),
    )
    change_log: str = field(
        default="",
        metadata=_doc(
            "The change log (RDF Patch) of accepted writes (empty: DIR/diplokg-changes.rdfp for "
            "oxigraph:DIR; required for a sparql: store)."
        ),
    )
    update_allowed_urls: tuple[str, ...] = field(
        default=(),
        metadata=_doc("URLs an update may LOAD or call with SERVICE (comma-separated; none)."),
    )
    update_timeout: float = field(
        default=60.0, metadata=_doc("Seconds a write may take before its writer is stopped.")
    )
    max_update_changes: int = field(
        default=500_000, metadata=_doc("Most quads one commit may add and remove; more is 413.")
    )
    releases: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "Directories of earlier releases, each served under /release/VERSION/ with its own "
            "endpoint and pages, with Memento (comma-separated)."
        ),
    )
    original_base: str = field(
        default="",
        metadata=_doc(
            "Set on the app of an earlier release (by --release): where the current resources "
            "live, for the Memento headers. Empty: this app serves the current data."
        ),
    )
    base_url: str = field(
        default="",
        metadata=_doc(
            "Public URL where https://w3id.org/diplokg/ is served (empty: http://HOST:PORT/)."
        ),
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then DIPLOKG_* environment variables, then `overrides` (None values skipped)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _convert(f, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """ValueError when a setting is out of range."""
        positive = (
            "query_timeout",
            "max_rows",
            "max_body_bytes",
            "workers",
            "port",
            "update_timeout",
            "max_update_changes",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"setting {name} must be positive, not {getattr(self, name)!r}")
        if self.result_cache_entries < 0 or self.result_cache_max_bytes < 0:
            raise ValueError("result cache sizes cannot be negative")
        if self.writable:
            self.change_log_path()

    @property
    def writable(self) -> bool:
        """True when writes are enabled (a token file is given)."""
        return bool(self.write_tokens)

    def change_log_path(self) -> Path:
        """Where the change log lives; ValueError when the store cannot be written."""
        from graph.stores import parse_store_spec

        kind, options = parse_store_spec(self.store)
        if kind == "oxigraph" and "path" in options:
            return Path(self.change_log) if self.change_log else Path(options["path"]) / CHANGE_LOG
        if kind == "remote" and options.get("update_url"):
            if not self.change_log:
                raise ValueError(
                    "writes to a sparql: store need --change-log FILE (DIPLOKG_CHANGE_LOG)"
                )
            return Path(self.change_log)
        raise ValueError(
            f"--write-tokens needs a persistent store: oxigraph:DIR or "
            f"sparql:QUERY_URL,UPDATE_URL, not {self.store!r} (an in-memory store would lose "
            "every write at the next start)"
        )

    @property
    def public_base(self) -> str:
        """The URL the public base https://w3id.org/diplokg/ maps to, ending with a slash."""
        base = self.base_url or f"http://{self.host}:{self.port}/"
        return base if base.endswith("/") else base + "/"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def documentation() -> dict[str, str]:
    """Setting name -> its one-line description (what docs/endpoint.md must list)."""
    return {f.name: str(f.metadata["doc"]) for f in fields(Settings)}


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _convert(f: dataclasses.Field[Any], raw: str) -> Any:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "Path":
            return Path(raw)
        if kind.startswith("tuple"):
            return tuple(item.strip() for item in raw.split(",") if item.strip())
    except ValueError:
        raise ValueError(f"{env_name(f.name)}={raw!r} is not a valid {kind}") from None
    return raw
