"""The SPARQL 1.1 Service Description (W3C Recommendation, §3) of the query endpoint, as an RDF graph."""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from api.pool import StoreInfo
from graph.formats import FORMATS
from graph.namespaces import PREFIXES

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
ENTAILMENT = Namespace("http://www.w3.org/ns/entailment/")
W3C_FORMATS = Namespace("http://www.w3.org/ns/formats/")

#: Our format short names -> the W3C format IRIs of sd:resultFormat (http://www.w3.org/ns/formats/).
FORMAT_IRIS: dict[str, URIRef] = {
    "json": W3C_FORMATS["SPARQL_Results_JSON"],
    "xml": W3C_FORMATS["SPARQL_Results_XML"],
    "csv": W3C_FORMATS["SPARQL_Results_CSV"],
    "tsv": W3C_FORMATS["SPARQL_Results_TSV"],
    "turtle": W3C_FORMATS["Turtle"],
    "ntriples": W3C_FORMATS["N-Triples"],
    "jsonld": W3C_FORMATS["JSON-LD"],
    "rdfxml": W3C_FORMATS["RDF_XML"],
}


def describe(
    endpoint: str, info: StoreInfo, allowed_services: tuple[str, ...], writable: bool = False
) -> Graph:
    """The service description: endpoint, language, formats, features and the default dataset;
    on a server that takes writes, also its update service (/update, SPARQL 1.1 Update) and
    its Graph Store (/store), which share the dataset."""
    g = Graph()
    g.bind("sd", SD)
    g.bind("void", VOID)
    g.bind("formats", W3C_FORMATS)
    for name in ("dkg", "xsd", "rdfs"):
        g.bind(name, PREFIXES[name])
    service = URIRef(endpoint + "#service")
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, URIRef(endpoint)))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    g.add((service, SD.feature, SD.BasicFederatedQuery))
    g.add((service, SD.defaultEntailmentRegime, ENTAILMENT.Simple))
    for fmt in FORMATS:
        g.add((service, SD.resultFormat, FORMAT_IRIS[fmt.name]))
    g.add(
        (
            service,
            RDFS.comment,
            Literal(
                "Read-only SPARQL 1.1 query endpoint of DiploKG. The default graph is the union "
                "of all named graphs; the named graphs are the sources (one per article), the "
                "curated entities and the ontology. SERVICE may call only: "
                + ", ".join(allowed_services or ("no endpoint",)),
                lang="en",
            ),
        )
    )
    dataset = BNode("defaultDataset")
    default_graph = BNode("defaultGraph")
    if writable:
        _describe_writes(g, endpoint, dataset)
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, SD.defaultGraph, default_graph))
    g.add((default_graph, RDF.type, SD.Graph))
    g.add((default_graph, VOID.triples, Literal(info.triples, datatype=XSD.integer)))
    g.add((default_graph, RDFS.comment, Literal("The union of all named graphs.", lang="en")))
    for iri in info.named_graphs:
        named = BNode()
        g.add((dataset, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, URIRef(iri)))
    return g


def _describe_writes(g: Graph, endpoint: str, dataset: BNode) -> None:
    base = endpoint.rsplit("/", 1)[0]
    update = URIRef(base + "/update#service")
    g.add((update, RDF.type, SD.Service))
    g.add((update, SD.endpoint, URIRef(base + "/update")))
    g.add((update, SD.supportedLanguage, SD.SPARQL11Update))
    g.add((update, SD.defaultDataset, dataset))
    g.add((update, RDFS.seeAlso, URIRef(base + "/store")))
    g.add((update, RDFS.seeAlso, URIRef(base + "/changes")))
    g.add(
        (
            update,
            RDFS.comment,
            Literal(
                "SPARQL 1.1 Update (POST, Bearer token). Every request is one commit, checked "
                "against the SHACL shapes before it is applied (409 with the report otherwise) "
                "and recorded with its provenance; see /changes. The SPARQL 1.1 Graph Store HTTP "
                "Protocol is served at /store.",
                lang="en",
            ),
        )
    )
