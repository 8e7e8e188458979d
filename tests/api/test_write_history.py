"""What a curator's change leaves behind: the history on the entity's page, commit IRIs that
dereference, and `diplokg changes export`, whose output merged into the sources builds and is
found in place when the server replays its change log on the new build."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from rdflib import Dataset, URIRef
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.settings import Settings
from graph.build import Inputs, build
from graph.layout import SOURCES_DIR
from graph.namespaces import DK
from graph.stores.oxigraph import CHANGE_LOG
from graph.writes.delta import parse_patches

TOKEN = "historian-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sparql-update"}
NOTE = 'INSERT DATA { GRAPH dkg:curated-notes { res:russia rdfs:comment "A curated note."@en } }'
FACT = """PREFIX res: <https://w3id.org/diplokg/resource/>
INSERT DATA { GRAPH dkg:curated-history {
  res:recognition-history a dk:Recognition ; rdfs:label "A curated recognition"@en ;
    dk:recognizingState res:russia ; dk:recognizedGovernment res:islamic-emirate-of-afghanistan ;
    dk:startDate "2025-07-04"^^xsd:date ;
    dk:evidence "Russia has officially recognized the Taliban government (curated)." ;
    prov:wasDerivedFrom res:article-russia-recognizes-islamic-emirate .
} }"""


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("history-store")


@pytest.fixture(scope="module")
def settings(
    built_dir: Path, store_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    tokens = tmp_path_factory.mktemp("history-tokens") / "tokens.txt"
    tokens.write_text(f"historian:{TOKEN}\n", encoding="utf-8")
    return Settings(
        dataset=built_dir, store=f"oxigraph:{store_dir}", workers=1, write_tokens=str(tokens)
    )


@pytest.fixture(scope="module")
def commits(settings: Settings) -> Iterator[tuple[TestClient, list[str]]]:
    with TestClient(create_app(settings)) as client:
        made = []
        for text, message in ((NOTE, "a note on Russia"), (FACT, "a curated recognition")):
            response = client.post(
                "/update", content=text, headers={**AUTH, "Prov-Message": message}
            )
            assert response.status_code == 200, response.text
            made.append(response.json()["commit"])
        removal = 'DELETE DATA { GRAPH dkg:curated-notes { res:russia rdfs:comment "A curated note."@en } }'
        response = client.post("/update", content=removal, headers=AUTH)
        made.append(response.json()["commit"])
        yield client, made


def test_an_entity_page_shows_the_commits_that_changed_it(
    commits: tuple[TestClient, list[str]],
) -> None:
    client, made = commits
    page = client.get("/resource/russia", headers={"Accept": "text/html"}).text
    history = page[page.index('id="history"') :]
    assert f"Commit {made[0]}" in history and f"Commit {made[2]}" in history
    assert "a note on Russia" in history and "added:" in history and "removed:" in history
    assert history.index(made[2]) < history.index(made[0])  # newest first
    # The records of the commits name Russia, but they are not facts about it.
    facts = page[page.index('id="incoming-title"') :]
    facts = facts[: facts.index("</section>")]
    assert "/change/" not in facts


def test_a_commit_iri_dereferences_to_its_record(commits: tuple[TestClient, list[str]]) -> None:
    client, made = commits
    response = client.get(f"/change/{made[0]}", follow_redirects=False)
    assert response.status_code == 303
    record = client.get(f"/change/{made[0]}", headers={"Accept": "application/trig"})
    ds = Dataset().parse(data=record.text, format="trig")
    commit = URIRef(f"https://w3id.org/diplokg/change/{made[0]}")
    assert any(ds.quads((commit, None, DK.Commit, None)))
    assert client.get("/change/000999-00000000", follow_redirects=False).status_code == 404


def test_changes_export_writes_reviewable_sources(
    commits: tuple[TestClient, list[str]], store_dir: Path, tmp_path: Path
) -> None:
    _, made = commits
    out = tmp_path / "review"
    result = CliRunner().invoke(
        cli, ["changes", "export", "--store", f"oxigraph:{store_dir}", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "3 commit(s)" in result.output
    ds = Dataset().parse(out / "changes.trig", format="trig")
    graphs = {str(g.identifier) for g in ds.graphs() if len(g)}
    assert "https://w3id.org/diplokg/graph/curated-history" in graphs
    assert "https://w3id.org/diplokg/graph/curated-notes" not in graphs  # added, then removed
    assert all(f"https://w3id.org/diplokg/change/{c}" in graphs for c in made)
    review = (out / "REVIEW.md").read_text(encoding="utf-8")
    assert all(c in review for c in made) and "a curated recognition" in review
    [removed] = parse_patches((out / "removed.rdfp").read_text(encoding="utf-8"))
    assert removed.operations == ()  # the note was added and removed: nothing to delete
    since = CliRunner().invoke(
        cli,
        [
            "changes",
            "export",
            "--store",
            f"oxigraph:{store_dir}",
            "--out",
            str(tmp_path / "since"),
            "--since",
            made[1],
        ],
    )
    assert since.exit_code == 0 and "1 commit(s)" in since.output
    unknown = CliRunner().invoke(
        cli,
        [
            "changes",
            "export",
            "--store",
            f"oxigraph:{store_dir}",
            "--out",
            str(tmp_path / "x"),
            "--since",
            "nope",
        ],
    )
    assert unknown.exit_code == 2 and "no commit" in unknown.output


def test_an_exported_change_merged_into_the_sources_is_found_in_place_by_the_replay(
    commits: tuple[TestClient, list[str]], store_dir: Path, tmp_path: Path
) -> None:
    _, made = commits
    out = tmp_path / "review"
    assert (
        CliRunner()
        .invoke(cli, ["changes", "export", "--store", f"oxigraph:{store_dir}", "--out", str(out)])
        .exit_code
        == 0
    )
    sources = tmp_path / "sources"
    shutil.copytree(SOURCES_DIR, sources, ignore=shutil.ignore_patterns("list-*.trig"))
    shutil.copyfile(out / "changes.trig", sources / "curated-changes.trig")
    merged = build(tmp_path / "dist", force=True, inputs=Inputs(sources_dir=sources))
    store = ox.Store()
    store.load(path=str(merged.out_dir / "diplokg.nq"), format=ox.RdfFormat.N_QUADS)
    assert (
        len(
            list(
                store.quads_for_pattern(
                    ox.NamedNode("https://w3id.org/diplokg/resource/recognition-history"),
                    None,
                    None,
                    None,
                )
            )
        )
        == 7
    )
    # The server's change log replayed on the new build: every commit is already there.
    from graph.writes.backends import OxigraphBackend
    from graph.writes.check import CommitCheck
    from graph.writes.log import ChangeLog
    from graph.writes.repository import Repository

    log_copy = tmp_path / "log.rdfp"
    shutil.copyfile(store_dir / CHANGE_LOG, log_copy)
    backend = OxigraphBackend(store)
    repo = Repository(
        backend, ChangeLog(log_copy), CommitCheck(), build_tag="0" * 64, triples=len(store)
    )
    recovery = repo.recover(rebuilt=True)
    assert recovery.replayed == 0 and recovery.head == made[-1]
