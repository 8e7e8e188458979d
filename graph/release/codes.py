"""Codes that join DiploKG's tables to other datasets: states and event types.

States (each `dk:State` of the graph): ISO 3166-1 alpha-3 and alpha-2 and the Gleditsch-Ward
number, from the `country_converter` package (its `country_data.tsv`, matched on the state's
`rdfs:label`, then on its `skos:altLabel`s); the Correlates of War state number and abbreviation
from COW's State System Membership list (`COW-country-codes.csv`, v2016), keyed here by the
ISO 3166-1 alpha-3 code that `country_converter` gives each COW state name (COW's 345,
"Yugoslavia", is Serbia's number since 2006). An unknown code is an empty value, never a guess.

Event types: each fact class gets a CAMEO code (Conflict and Mediation Event Observations,
codebook 1.1b3) and a PLOVER event type (PLOVER 2021, `CAMEO2PLOVER-2021.txt`), or an empty
value with the reason why none fits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version

import pandas as pd
import pyoxigraph as ox

from graph.namespaces import DK, sparql_prologue

COCO_VERSION = version("country_converter")
COCO_SOURCE = f"country_converter {COCO_VERSION} (country_data.tsv)"
COW_SOURCE = "Correlates of War, State System Membership v2016 (COW-country-codes.csv)"

#: ISO 3166-1 alpha-3 -> (COW state number, COW state abbreviation), for the states of COW's
#: list that exist today.
COW_BY_ISO3: dict[str, tuple[int, str]] = {
    "USA": (2, "USA"),  # United States of America
    "CAN": (20, "CAN"),  # Canada
    "BHS": (31, "BHM"),  # Bahamas
    "CUB": (40, "CUB"),  # Cuba
    "HTI": (41, "HAI"),  # Haiti
    "DOM": (42, "DOM"),  # Dominican Republic
    "JAM": (51, "JAM"),  # Jamaica
    "TTO": (52, "TRI"),  # Trinidad and Tobago
    "BRB": (53, "BAR"),  # Barbados
    "DMA": (54, "DMA"),  # Dominica
    "GRD": (55, "GRN"),  # Grenada
    "LCA": (56, "SLU"),  # St. Lucia
    "VCT": (57, "SVG"),  # St. Vincent and the Grenadines
    "ATG": (58, "AAB"),  # Antigua & Barbuda
    "KNA": (60, "SKN"),  # St. Kitts and Nevis
    "MEX": (70, "MEX"),  # Mexico
    "BLZ": (80, "BLZ"),  # Belize
    "GTM": (90, "GUA"),  # Guatemala
    "HND": (91, "HON"),  # Honduras
    "SLV": (92, "SAL"),  # El Salvador
    "NIC": (93, "NIC"),  # Nicaragua
    "CRI": (94, "COS"),  # Costa Rica
    "PAN": (95, "PAN"),  # Panama
    "COL": (100, "COL"),  # Colombia
    "VEN": (101, "VEN"),  # Venezuela
    "GUY": (110, "GUY"),  # Guyana
    "SUR": (115, "SUR"),  # Suriname
    "ECU": (130, "ECU"),  # Ecuador
    "PER": (135, "PER"),  # Peru
    "BRA": (140, "BRA"),  # Brazil
    "BOL": (145, "BOL"),  # Bolivia
    "PRY": (150, "PAR"),  # Paraguay
    "CHL": (155, "CHL"),  # Chile
    "ARG": (160, "ARG"),  # Argentina
    "URY": (165, "URU"),  # Uruguay
    "GBR": (200, "UKG"),  # United Kingdom
    "IRL": (205, "IRE"),  # Ireland
    "NLD": (210, "NTH"),  # Netherlands
    "BEL": (211, "BEL"),  # Belgium
    "LUX": (212, "LUX"),  # Luxembourg
    "FRA": (220, "FRN"),  # France
    "MCO": (221, "MNC"),  # Monaco
    "LIE": (223, "LIE"),  # Liechtenstein
    "CHE": (225, "SWZ"),  # Switzerland
    "ESP": (230, "SPN"),  # Spain
    "AND": (232, "AND"),  # Andorra
    "PRT": (235, "POR"),  # Portugal
    "DEU": (255, "GMY"),  # Germany
    "POL": (290, "POL"),  # Poland
    "AUT": (305, "AUS"),  # Austria
    "HUN": (310, "HUN"),  # Hungary
    "CZE": (316, "CZR"),  # Czech Republic
    "SVK": (317, "SLO"),  # Slovakia
    "ITA": (325, "ITA"),  # Italy
    "SMR": (331, "SNM"),  # San Marino
    "MLT": (338, "MLT"),  # Malta
    "ALB": (339, "ALB"),  # Albania
    "MNE": (341, "MNG"),  # Montenegro
    "MKD": (343, "MAC"),  # Macedonia
    "HRV": (344, "CRO"),  # Croatia
    "SRB": (345, "YUG"),  # Yugoslavia
    "BIH": (346, "BOS"),  # Bosnia and Herzegovina
    "XKX": (347, "KOS"),  # Kosovo
    "SVN": (349, "SLV"),  # Slovenia
    "GRC": (350, "GRC"),  # Greece
    "CYP": (352, "CYP"),  # Cyprus
    "BGR": (355, "BUL"),  # Bulgaria
    "MDA": (359, "MLD"),  # Moldova
    "ROU": (360, "ROM"),  # Romania
    "RUS": (365, "RUS"),  # Russia
    "EST": (366, "EST"),  # Estonia
    "LVA": (367, "LAT"),  # Latvia
    "LTU": (368, "LIT"),  # Lithuania
    "UKR": (369, "UKR"),  # Ukraine
    "BLR": (370, "BLR"),  # Belarus
    "ARM": (371, "ARM"),  # Armenia
    "GEO": (372, "GRG"),  # Georgia
    "AZE": (373, "AZE"),  # Azerbaijan
    "FIN": (375, "FIN"),  # Finland
    "SWE": (380, "SWD"),  # Sweden
    "NOR": (385, "NOR"),  # Norway
    "DNK": (390, "DEN"),  # Denmark
    "ISL": (395, "ICE"),  # Iceland
    "CPV": (402, "CAP"),  # Cape Verde
    "STP": (403, "STP"),  # Sao Tome and Principe
    "GNB": (404, "GNB"),  # Guinea-Bissau
    "GNQ": (411, "EQG"),  # Equatorial Guinea
    "GMB": (420, "GAM"),  # Gambia
    "MLI": (432, "MLI"),  # Mali
    "SEN": (433, "SEN"),  # Senegal
    "BEN": (434, "BEN"),  # Benin
    "MRT": (435, "MAA"),  # Mauritania
    "NER": (436, "NIR"),  # Niger
    "CIV": (437, "CDI"),  # Ivory Coast
    "GIN": (438, "GUI"),  # Guinea
    "BFA": (439, "BFO"),  # Burkina Faso
    "LBR": (450, "LBR"),  # Liberia
    "SLE": (451, "SIE"),  # Sierra Leone
    "GHA": (452, "GHA"),  # Ghana
    "TGO": (461, "TOG"),  # Togo
    "CMR": (471, "CAO"),  # Cameroon
    "NGA": (475, "NIG"),  # Nigeria
    "GAB": (481, "GAB"),  # Gabon
    "CAF": (482, "CEN"),  # Central African Republic
    "TCD": (483, "CHA"),  # Chad
    "COG": (484, "CON"),  # Congo
    "COD": (490, "DRC"),  # Democratic Republic of the Congo
    "UGA": (500, "UGA"),  # Uganda
    "KEN": (501, "KEN"),  # Kenya
    "TZA": (510, "TAZ"),  # Tanzania
    "BDI": (516, "BUI"),  # Burundi
    "RWA": (517, "RWA"),  # Rwanda
    "SOM": (520, "SOM"),  # Somalia
    "DJI": (522, "DJI"),  # Djibouti
    "ETH": (530, "ETH"),  # Ethiopia
    "ERI": (531, "ERI"),  # Eritrea
    "AGO": (540, "ANG"),  # Angola
    "MOZ": (541, "MZM"),  # Mozambique
    "ZMB": (551, "ZAM"),  # Zambia
    "ZWE": (552, "ZIM"),  # Zimbabwe
    "MWI": (553, "MAW"),  # Malawi
    "ZAF": (560, "SAF"),  # South Africa
    "NAM": (565, "NAM"),  # Namibia
    "LSO": (570, "LES"),  # Lesotho
    "BWA": (571, "BOT"),  # Botswana
    "SWZ": (572, "SWA"),  # Swaziland
    "MDG": (580, "MAG"),  # Madagascar
    "COM": (581, "COM"),  # Comoros
    "MUS": (590, "MAS"),  # Mauritius
    "SYC": (591, "SEY"),  # Seychelles
    "MAR": (600, "MOR"),  # Morocco
    "DZA": (615, "ALG"),  # Algeria
    "TUN": (616, "TUN"),  # Tunisia
    "LBY": (620, "LIB"),  # Libya
    "SDN": (625, "SUD"),  # Sudan
    "SSD": (626, "SSD"),  # South Sudan
    "IRN": (630, "IRN"),  # Iran
    "TUR": (640, "TUR"),  # Turkey
    "IRQ": (645, "IRQ"),  # Iraq
    "EGY": (651, "EGY"),  # Egypt
    "SYR": (652, "SYR"),  # Syria
    "LBN": (660, "LEB"),  # Lebanon
    "JOR": (663, "JOR"),  # Jordan
    "ISR": (666, "ISR"),  # Israel
    "SAU": (670, "SAU"),  # Saudi Arabia
    "YEM": (679, "YEM"),  # Yemen
    "KWT": (690, "KUW"),  # Kuwait
    "BHR": (692, "BAH"),  # Bahrain
    "QAT": (694, "QAT"),  # Qatar
    "ARE": (696, "UAE"),  # United Arab Emirates
    "OMN": (698, "OMA"),  # Oman
    "AFG": (700, "AFG"),  # Afghanistan
    "TKM": (701, "TKM"),  # Turkmenistan
    "TJK": (702, "TAJ"),  # Tajikistan
    "KGZ": (703, "KYR"),  # Kyrgyzstan
    "UZB": (704, "UZB"),  # Uzbekistan
    "KAZ": (705, "KZK"),  # Kazakhstan
    "CHN": (710, "CHN"),  # China
    "MNG": (712, "MON"),  # Mongolia
    "TWN": (713, "TAW"),  # Taiwan
    "PRK": (731, "PRK"),  # North Korea
    "KOR": (732, "ROK"),  # South Korea
    "JPN": (740, "JPN"),  # Japan
    "IND": (750, "IND"),  # India
    "BTN": (760, "BHU"),  # Bhutan
    "PAK": (770, "PAK"),  # Pakistan
    "BGD": (771, "BNG"),  # Bangladesh
    "MMR": (775, "MYA"),  # Myanmar
    "LKA": (780, "SRI"),  # Sri Lanka
    "MDV": (781, "MAD"),  # Maldives
    "NPL": (790, "NEP"),  # Nepal
    "THA": (800, "THI"),  # Thailand
    "KHM": (811, "CAM"),  # Cambodia
    "LAO": (812, "LAO"),  # Laos
    "VNM": (816, "DRV"),  # Vietnam
    "MYS": (820, "MAL"),  # Malaysia
    "SGP": (830, "SIN"),  # Singapore
    "BRN": (835, "BRU"),  # Brunei
    "PHL": (840, "PHI"),  # Philippines
    "IDN": (850, "INS"),  # Indonesia
    "TLS": (860, "ETM"),  # East Timor
    "AUS": (900, "AUL"),  # Australia
    "PNG": (910, "PNG"),  # Papua New Guinea
    "NZL": (920, "NEW"),  # New Zealand
    "VUT": (935, "VAN"),  # Vanuatu
    "SLB": (940, "SOL"),  # Solomon Islands
    "KIR": (946, "KIR"),  # Kiribati
    "TUV": (947, "TUV"),  # Tuvalu
    "FJI": (950, "FIJ"),  # Fiji
    "TON": (955, "TON"),  # Tonga
    "NRU": (970, "NAU"),  # Nauru
    "MHL": (983, "MSI"),  # Marshall Islands
    "PLW": (986, "PAL"),  # Palau
    "FSM": (987, "FSM"),  # Federated States of Micronesia
    "WSM": (990, "WSM"),  # Samoa
}


@dataclass(frozen=True)
class StateCodes:
    """The codes of one dk:State; empty strings and None where a code is unknown."""

    iri: str
    label: str
    iso3: str
    iso2: str
    gw: int | None
    cow: int | None
    cow_abbrev: str
    matched_name: str
    source: str


@dataclass(frozen=True)
class EventCode:
    """A fact class's CAMEO code and PLOVER event type, or empty values and the reason."""

    fact_class: str
    cameo: str
    cameo_label: str
    plover: str
    reason: str


#: CAMEO and PLOVER for each fact class of the ontology.
EVENT_CODES: dict[str, EventCode] = {
    str(code.fact_class): code
    for code in (
        EventCode(
            str(DK.Recognition),
            "054",
            "Grant diplomatic recognition",
            "SUPPORT",
            "CAMEO 054 is an act of diplomatic recognition; CAMEO2PLOVER-2021 maps 054 to "
            "SUPPORT (diplomatic).",
        ),
        EventCode(
            str(DK.EngagementWithoutRecognition),
            "050",
            "Engage in diplomatic cooperation, not specified below",
            "SUPPORT",
            "Accepting a government's envoys without recognizing it is diplomatic cooperation "
            "short of recognition (CAMEO 050; CAMEO2PLOVER-2021 maps 050 to SUPPORT).",
        ),
        EventCode(
            str(DK.RecognitionWithheld),
            "",
            "",
            "",
            "CAMEO and PLOVER have no code for withholding recognition: 161 (Reduce or break "
            "diplomatic relations; PLOVER SANCTION) presupposes relations that existed.",
        ),
        EventCode(
            str(DK.TerrorDesignation),
            "",
            "",
            "",
            "CAMEO has no code for designating an organization as terrorist; 163 (Impose "
            "embargo, boycott, or sanctions) and 172 (Impose administrative sanctions) code "
            "sanctions on a target, not a listing, and PLOVER (which maps them to COERCE) has "
            "none either.",
        ),
        EventCode(
            str(DK.SanctionsListing),
            "163",
            "Impose embargo, boycott, or sanctions",
            "COERCE",
            "A sanctions listing imposes sanctions on the listed organization (CAMEO 163; "
            "CAMEO2PLOVER-2021 maps 163 to COERCE, mode restrict).",
        ),
        EventCode(
            str(DK.Envoy),
            "",
            "",
            "",
            "CAMEO and PLOVER have no code for accrediting or accepting an envoy: 042/043 "
            "(Make/Host a visit; PLOVER CONSULT) code visits, not accreditations.",
        ),
        EventCode(
            str(DK.CourtRuling),
            "",
            "",
            "",
            "A domestic court's ruling on a listing is not an interaction between two actors "
            "that CAMEO or PLOVER codes (116, Find guilty or liable, is a verdict against the "
            "target, which this is not).",
        ),
    )
}


def event_code(fact_class: str) -> EventCode:
    """The codes of a fact class; empty, with a reason, for a class with no entry."""
    return EVENT_CODES.get(
        fact_class,
        EventCode(fact_class, "", "", "", "No CAMEO or PLOVER code is assigned to this class."),
    )


@cache
def _converter() -> object:
    """A country_converter loaded so that pandas 3 keeps Namibia's "NA" and empty regexes."""
    import country_converter as coco  # type: ignore[import-untyped]
    from country_converter import country_converter as module

    data = pd.read_csv(
        module.COUNTRY_DATA_FILE,
        sep="\t",
        encoding="utf-8",
        keep_default_na=False,
        na_values=[""],
    )
    for column in ("regex", "ISO2", "ISO3", "name_short", "name_official"):
        data[column] = data[column].fillna("")
    logging.getLogger("country_converter").setLevel(logging.ERROR)
    return coco.CountryConverter(country_data=data)


def _lookup(name: str) -> tuple[str, str, int | None]:
    """ISO3, ISO2 and GW code of a country name, or ("", "", None)."""
    converter = _converter()
    convert = converter.convert  # type: ignore[attr-defined]
    iso3 = convert(name, src="regex", to="ISO3", not_found=None)
    if not isinstance(iso3, str):
        return "", "", None
    iso2 = convert(iso3, src="ISO3", to="ISO2", not_found=None)
    gw = convert(iso3, src="ISO3", to="GWcode", not_found=None)
    gw_code = int(gw) if isinstance(gw, (int, float)) and not pd.isna(gw) else None
    return iso3, iso2 if isinstance(iso2, str) else "", gw_code


def _state_names(store: ox.Store) -> dict[str, tuple[str, list[str]]]:
    """Each dk:State's IRI -> (its label, the names to try: label first, then altLabels)."""
    query = sparql_prologue() + (
        "SELECT DISTINCT ?state ?kind ?name WHERE { ?state a dk:State . "
        "{ ?state rdfs:label ?name BIND(0 AS ?kind) } UNION "
        "{ ?state skos:altLabel ?name BIND(1 AS ?kind) } }"
    )
    found: dict[str, list[tuple[int, str, str]]] = {}
    for row in store.query(query, use_default_graph_as_union=True):  # type: ignore[union-attr]
        state, kind, name = row["state"], row["kind"], row["name"]
        language = getattr(name, "language", None) or ""
        rank = int(kind.value) * 2 + (0 if language in ("en", "") else 1)
        found.setdefault(state.value, []).append((rank, name.value, language))
    names: dict[str, tuple[str, list[str]]] = {}
    for iri, entries in found.items():
        entries.sort()
        names[iri] = (entries[0][1], [value for _, value, _ in entries])
    return names


def state_codes(store: ox.Store) -> dict[str, StateCodes]:
    """The codes of every dk:State in the store, by IRI."""
    codes: dict[str, StateCodes] = {}
    for iri, (label, candidates) in sorted(_state_names(store).items()):
        codes[iri] = _codes_of(iri, label, candidates)
    return codes


def _codes_of(iri: str, label: str, candidates: list[str]) -> StateCodes:
    for name in candidates:
        iso3, iso2, gw = _lookup(name)
        if iso3:
            cow = COW_BY_ISO3.get(iso3)
            kind = "rdfs:label" if name == label else "skos:altLabel"
            source = f'{COCO_SOURCE}, matching the {kind} "{name}"'
            if cow is not None:
                source += f"; COW: {COW_SOURCE}"
            return StateCodes(
                iri=iri,
                label=label,
                iso3=iso3,
                iso2=iso2,
                gw=gw,
                cow=cow[0] if cow else None,
                cow_abbrev=cow[1] if cow else "",
                matched_name=name,
                source=source,
            )
    return StateCodes(iri, label, "", "", None, None, "", "", "no match in " + COCO_SOURCE)
