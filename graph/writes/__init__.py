"""Curated writes: SPARQL 1.1 Update and Graph Store requests turned into checked, logged commits.

The pieces, each in one place:

* `graph.writes.delta`: a commit's concrete change (quads removed, quads added) and its RDF Patch.
* `graph.writes.overlay`: the store as a request sees it while it runs (the base, less what the
  request removed, plus what it added), readable by rdflib's SPARQL engine.
* `graph.writes.update`: a SPARQL 1.1 Update request, or a Graph Store operation, evaluated
  against the overlay into a Delta (nothing touches the store).
* `graph.writes.check`: the SHACL check of the changed neighbourhood, never the whole store.
* `graph.writes.log`: the append-only change log (RDF Patch), written and fsynced before a
  commit is applied, and replayed by the query replicas and after a crash or a rebuild.
* `graph.writes.commits`: the PROV record of a commit, kept in its own named graph.
* `graph.writes.repository`: the one writer: check, log, apply, in that order.
"""
