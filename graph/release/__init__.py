"""Releases researchers can cite, compare and load without RDF (issue 13): `diplokg release`.

A release directory (`diplokg release VERSION --out DIR [--previous DIR]`) is itself a dataset
that `diplokg serve --dataset DIR` serves. Its layout, one module per part:

    DIR/
      diplokg.nq, diplokg.trig, diplokg.ttl, diplokg.jsonld, void.ttl, ontology.html,
      manifest.json                 the build's dumps and VoID/DCAT, for this version (graph.build)
      CITATION.cff, .zenodo.json    citation metadata, DOI fields empty until one is minted
      dataset.jsonld                schema.org Dataset                       (graph.release.metadata)
      ro-crate-metadata.json        RO-Crate 1.1                             (graph.release.metadata)
      croissant.json                Croissant 1.0                            (graph.release.metadata)
      tables/*.csv                  one table per fact type                  (graph.release.tables)
      datapackage.json              Frictionless data package of tables/ and panel/
      codebook.md, codebook.html    generated from the ontology and the package (graph.release.codebook)
      panel/dyad_year.csv|.dta|.parquet   directed dyad-year panel           (graph.release.panel)
      changes/changes.rdfp, CHANGES.md, changes/changes.csv   what changed since --previous
                                                                          (graph.release.diff)

Reproducible: the same sources and version give byte-identical files, except the declared
release date (`--date`, default today), which every file that carries it takes from one place.
Every part reads the release's own dataset (its N-Quads dump loaded into an in-memory Oxigraph
store), never the network.
"""
