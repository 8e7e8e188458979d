"""The README's "Citing DiploKG" section, generated from the release metadata (graph.release.metadata).

`python -m graph.release.readme` rewrites the part of README.md between the markers
`<!-- citation:start -->` and `<!-- citation:end -->`, for the sources' version and its date in
CHANGELOG.md; a test checks that README.md holds exactly what this writes.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from graph import __version__
from graph.describe import releases
from graph.layout import PROJECT_ROOT
from graph.release.metadata import ReleaseMetadata, bibtex

README = PROJECT_ROOT / "README.md"
START = "<!-- citation:start -->"
END = "<!-- citation:end -->"


def current_metadata() -> ReleaseMetadata:
    """The metadata of the sources' version, dated as CHANGELOG.md dates it (today if not)."""
    day = releases().get(__version__, dt.date.today())
    return ReleaseMetadata(version=__version__, release_date=day)


def citation_section(meta: ReleaseMetadata) -> str:
    """The Markdown between the markers: the citation, its BibTeX, and how to cite one fact."""
    doi = f" https://doi.org/{meta.doi}" if meta.doi else ""
    return "\n".join(
        [
            "If you use DiploKG, cite the dataset and its version (metadata in",
            "[CITATION.cff](CITATION.cff); changes in [CHANGELOG.md](CHANGELOG.md); a release also",
            "ships `.zenodo.json`, a schema.org `dataset.jsonld`, an RO-Crate and a Croissant",
            "description: [docs/researchers.md](docs/researchers.md)):",
            "",
            f"> {meta.citation_text}{doi}",
            "",
            "```bibtex",
            bibtex(meta),
            "```",
            "",
            'To cite a single fact, use its page\'s "Cite this fact" (BibTeX, CSL-JSON, RIS, or a',
            "nanopublication to sign with your own key): it names the fact's IRI",
            "(`https://w3id.org/diplokg/resource/…`), the release and the source.",
            "",
            "This section is generated from the release metadata: `python -m graph.release.readme`.",
        ]
    )


def rewrite(readme: Path = README, meta: ReleaseMetadata | None = None) -> bool:
    """Put the generated section between the markers; True if the file changed."""
    text = readme.read_text(encoding="utf-8")
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"{readme} has no {START} ... {END} markers")
    new = f"{head}{START}\n{citation_section(meta or current_metadata())}\n{END}{tail}"
    if new == text:
        return False
    readme.write_text(new, encoding="utf-8")
    return True


if __name__ == "__main__":
    changed = rewrite()
    print(f"{README}: {'rewritten' if changed else 'unchanged'}", file=sys.stderr)
