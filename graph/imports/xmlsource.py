"""Streaming XML reading (expat) that keeps, for each element, its verbatim text in the file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from graph.imports.model import ListFileError

CHUNK = 1 << 16


@dataclass
class XmlElement:
    """An element of a record: tag ('{namespace}local' as ElementTree writes it), attributes,
    its own character data, its source text exactly as the file writes it (start tag to end tag),
    and where it starts (line, 1-based column)."""

    tag: str
    attrib: dict[str, str]
    line: int
    column: int
    text: str = ""
    source: str = ""
    offset: int = 0  # of the start tag's '<', in bytes
    children: list[XmlElement] = field(default_factory=list)

    def find(self, tag: str) -> XmlElement | None:
        return next((child for child in self.children if child.tag == tag), None)

    def findall(self, tag: str) -> list[XmlElement]:
        return [child for child in self.children if child.tag == tag]

    @property
    def where(self) -> str:
        return f"line {self.line}, column {self.column}"


@dataclass
class XmlRoot:
    """The document element, known once the first start tag is read."""

    tag: str = ""
    attrib: dict[str, str] = field(default_factory=dict)


class _Reader:
    def __init__(self, path: Path, data: bytes, roots: frozenset[str], records: frozenset[str]):
        self.path, self.data, self.roots, self.records = path, data, roots, records
        self.root = XmlRoot()
        self.encoding = "utf-8"
        self.stack: list[XmlElement] = []  # open elements of the current record
        self.depth = 0
        self.done: list[XmlElement] = []
        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True
        parser.ordered_attributes = False
        parser.XmlDeclHandler = self._xml_decl
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity_decl
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._chars
        self.parser = parser

    @staticmethod
    def _qualified(name: str) -> str:
        return "{" + name if "}" in name else name

    def _where(self) -> str:
        return f"line {self.parser.CurrentLineNumber}, column {self.parser.CurrentColumnNumber + 1}"

    def _xml_decl(self, version: str, encoding: str | None, standalone: int) -> None:
        if encoding:
            self.encoding = encoding

    def _doctype(self, name: str, *rest: object) -> None:
        hint = " (an HTML page?)" if name.lower() == "html" else ""
        raise ListFileError(
            self.path, f"has a document type <!DOCTYPE {name}>{hint}", self._where()
        )

    def _entity_decl(self, *rest: object) -> None:  # pragma: no cover - DOCTYPE raises first
        raise ListFileError(self.path, "declares entities", self._where())

    def _start(self, name: str, attrib: dict[str, str]) -> None:
        tag = self._qualified(name)
        self.depth += 1
        if self.depth == 1:
            if tag not in self.roots:
                expected = " or ".join(f"<{r}>" for r in sorted(self.roots))
                raise ListFileError(
                    self.path, f"root element is <{tag}>, expected {expected}", self._where()
                )
            self.root.tag = tag
            self.root.attrib = {self._qualified(k): v for k, v in attrib.items()}
            return
        if not self.stack and tag not in self.records:
            return
        element = XmlElement(
            tag,
            {self._qualified(k): v for k, v in attrib.items()},
            self.parser.CurrentLineNumber,
            self.parser.CurrentColumnNumber + 1,
        )
        element.offset = self.parser.CurrentByteIndex
        if self.stack:
            self.stack[-1].children.append(element)
        self.stack.append(element)

    def _end(self, name: str) -> None:
        self.depth -= 1
        if not self.stack or self.depth < 1:
            return
        element = self.stack.pop()
        end = self.data.index(b">", self.parser.CurrentByteIndex) + 1
        element.source = self.data[element.offset : end].decode(self.encoding)
        if not self.stack:
            self.done.append(element)

    def _chars(self, text: str) -> None:
        if self.stack:
            self.stack[-1].text += text

    def read(self) -> Iterator[XmlElement]:
        try:
            for offset in range(0, len(self.data), CHUNK):
                final = offset + CHUNK >= len(self.data)
                self.parser.Parse(self.data[offset : offset + CHUNK], final)
                yield from self.done
                self.done.clear()
            if not self.data:
                self.parser.Parse(b"", True)
        except expat.ExpatError as error:
            message = expat.ErrorString(error.code)
            raise ListFileError(
                self.path,
                f"not well-formed XML: {message}",
                f"line {error.lineno}, column {error.offset + 1}",
            ) from None


def read_records(
    path: Path, data: bytes, *, roots: frozenset[str], records: frozenset[str]
) -> tuple[XmlRoot, Iterator[XmlElement]]:
    """The document element (filled in once reading starts) and, as they end, each element
    whose tag is in `records`, with its subtree. Raises ListFileError (with line and column) on
    ill-formed XML, a DOCTYPE (no entity expansion, no HTML pages) or an unexpected root."""
    reader = _Reader(path, data, roots, records)
    return reader.root, reader.read()
