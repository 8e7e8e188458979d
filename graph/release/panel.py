"""A directed dyad-year panel (`DIR/panel/dyad_year.csv`, `.dta`, `.parquet`).

One row per state x target x year, where the target is an organization (designations) or a
government (recognitions), for every year from the first year in the data to the release's
year. Only dyads that appear in at least one fact are present: a dk:TerrorDesignation
(designating state -> organization), a dk:Recognition (recognizing state -> government) or a
dk:RecognitionStance (state -> government). Sanctions listings have no state and are left out.

`designated` and `recognized` are "yes" when at least one fact node (one source's account)
places the designation or recognition certainly in force on some day of the year, "unknown"
when the dates or bounds of a fact allow it but do not establish it (a year-precision date, an
end known only as `dk:hasEnded`, a listing known only from list versions), and "no" otherwise:
the graph is read as complete (no fact, no designation). The column is empty (a missing value)
when it does not apply: `recognized` for an organization, `designated` for a government.
`designated_facts` / `recognized_facts` list the fact IRIs behind a "yes" or "unknown".

Written as RFC 4180 CSV, Stata 118 .dta (IRI lists as strL, beyond Stata's 244-character str
limit; the file's time stamp is the release date) and Parquet (pyarrow, no index).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyoxigraph as ox

from graph.namespaces import DK
from graph.release.codes import COCO_SOURCE, COW_SOURCE
from graph.release.tables import (
    SEPARATOR,
    Field,
    Props,
    Table,
    context,
    fact_properties,
    write_csv,
)

PANEL_DIR = "panel"
PANEL_NAME = "dyad_year"
STATUSES = ("yes", "no", "unknown")
FAR_PAST = dt.date.min
FAR_FUTURE = dt.date.max


@dataclass(frozen=True)
class Span:
    """What a fact's dates say: the earliest and latest possible start and end (first day out)."""

    fact: str
    kind: str
    state: str
    target: str
    start_earliest: dt.date
    start_latest: dt.date
    end_earliest: dt.date
    end_latest: dt.date

    def status(self, year: int) -> str:
        """yes, unknown or no: whether the fact held on some day of the year."""
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        certain_from, certain_to = (
            max(self.start_latest, first),
            min(self.end_earliest, last + ONE_DAY),
        )
        if self.start_latest <= last and certain_from < certain_to:
            return "yes"
        if self.start_earliest <= last and self.end_latest > first:
            return "unknown"
        return "no"


ONE_DAY = dt.timedelta(days=1)


def _day_range(term: object) -> tuple[dt.date, dt.date] | None:
    """The first and last day a date literal of any precision may denote."""
    if not isinstance(term, ox.Literal):
        return None
    parts = [int(p) for p in term.value[:10].split("-")]
    if len(parts) == 3:
        day = dt.date(*parts)
        return day, day
    if len(parts) == 2:
        first = dt.date(parts[0], parts[1], 1)
        following = dt.date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1)
        return first, following - ONE_DAY
    return dt.date(parts[0], 1, 1), dt.date(parts[0], 12, 31)


def _first(props: Props, prop: object) -> tuple[dt.date, dt.date] | None:
    terms = props.get(str(prop))
    return _day_range(terms[0]) if terms else None


def _start(props: Props) -> tuple[dt.date, dt.date] | None:
    """Earliest and latest possible start, or None when the node says nothing of its start."""
    stated = _first(props, DK.startDate)
    if stated:
        return stated
    listed = _first(props, DK.listingDate)
    seen = _first(props, DK.startedNoLaterThan)
    after = _first(props, DK.startedAfter)
    if not (listed or seen or after):
        return None
    latest = min([r[1] for r in (listed, seen) if r] or [FAR_FUTURE])
    if listed:
        earliest = listed[0]
    elif after:
        earliest = after[0] + ONE_DAY
    else:
        earliest = FAR_PAST
    return earliest, latest


def _dated_end(props: Props) -> tuple[dt.date, dt.date] | None:
    """Earliest and latest possible end (first day out) from an end date or bounds, or None."""
    stated = _first(props, DK.endDate)
    if stated:
        return stated
    seen = _first(props, DK.endedAfter)
    by = _first(props, DK.endedNoLaterThan)
    if not (seen or by):
        return None
    return (seen[0] + ONE_DAY if seen else FAR_PAST), (by[1] if by else FAR_FUTURE)


def _has_ended(props: Props) -> bool:
    return any(
        isinstance(t, ox.Literal) and t.value == "true" for t in props.get(str(DK.hasEnded), [])
    )


def _clusters(facts: dict[str, tuple[str, Props]]) -> list[list[str]]:
    """Fact nodes grouped by dk:sameFactAs (either way): one group per real-world fact."""
    parent = {iri: iri for iri in facts}

    def root(iri: str) -> str:
        while parent[iri] != iri:
            iri = parent[iri]
        return iri

    for iri, (_, props) in facts.items():
        for other in props.get(str(DK.sameFactAs), []):
            if _iri(other) in parent:
                a, b = sorted((root(iri), root(_iri(other))))
                parent[b] = a
    groups: dict[str, list[str]] = {}
    for iri in sorted(facts):
        groups.setdefault(root(iri), []).append(iri)
    return list(groups.values())


def _span(kind: str, members: list[str], facts: dict[str, tuple[str, Props]]) -> Span | None:
    """One real-world fact's span from its nodes: the earliest certain start any source gives;
    ended once any source dates an end; an end no source dates leaves it unknown from the
    certain start on (as competency question 3 counts designations)."""
    _, state_prop, target_prop = KINDS[facts[members[0]][0]]
    props = [facts[m][1] for m in members]
    states = sorted({_iri(t) for p in props for t in p.get(str(state_prop), [])})
    targets = sorted({_iri(t) for p in props for t in p.get(str(target_prop), [])})
    if not states or not targets:
        return None
    starts = [r for r in (_start(p) for p in props) if r]
    start_earliest = min((r[0] for r in starts), default=FAR_PAST)
    start_latest = min((r[1] for r in starts), default=FAR_FUTURE)
    ends = [r for r in (_dated_end(p) for p in props) if r]
    if ends:
        end_earliest, end_latest = min(r[0] for r in ends), min(r[1] for r in ends)
    elif any(_has_ended(p) for p in props):
        end_earliest = start_latest + ONE_DAY if start_latest < FAR_FUTURE else FAR_PAST
        end_latest = FAR_FUTURE
    else:
        end_earliest = end_latest = FAR_FUTURE
    return Span(
        SEPARATOR.join(members),
        kind,
        states[0],
        targets[0],
        start_earliest,
        start_latest,
        end_earliest,
        end_latest,
    )


KINDS = {
    str(DK.TerrorDesignation): ("designated", DK.designatingState, DK.designatedOrganization),
    str(DK.Recognition): ("recognized", DK.recognizingState, DK.recognizedGovernment),
}


def spans(store: ox.Store) -> list[Span]:
    """The spans of every designation and recognition with a state and a target, one per group
    of fact nodes linked by dk:sameFactAs; `Span.fact` lists the group's IRIs."""
    facts = fact_properties(store, list(KINDS))
    found = []
    for members in _clusters(facts):
        span = _span(KINDS[facts[members[0]][0]][0], members, facts)
        if span is not None:
            found.append(span)
    return found


def _iri(term: object) -> str:
    return str(getattr(term, "value", term))


def _stance_dyads(store: ox.Store) -> set[tuple[str, str]]:
    facts = fact_properties(
        store, [str(DK.EngagementWithoutRecognition), str(DK.RecognitionWithheld)]
    )
    dyads = set()
    for _, props in facts.values():
        for state in props.get(str(DK.stanceHolder), []):
            for target in props.get(str(DK.towardGovernment), []):
                dyads.add((_iri(state), _iri(target)))
    return dyads


def _first_year(all_spans: list[Span]) -> int:
    return min(
        (s.start_earliest if s.start_earliest > FAR_PAST else s.start_latest).year
        for s in all_spans
    )


def panel_rows(store: ox.Store, release_year: int) -> list[dict[str, str]]:
    """The panel's rows (every value a string; empty for a missing value)."""
    ctx = context(store)
    all_spans = spans(store)
    governments = {s.target for s in all_spans if s.kind == "recognized"}
    stance = _stance_dyads(store)
    governments |= {target for _, target in stance}
    dyads = {(s.state, s.target) for s in all_spans} | stance
    rows = []
    for state, target in sorted(dyads):
        codes = ctx.states.get(state)
        is_government = target in governments
        mine = [s for s in all_spans if s.state == state and s.target == target]
        for year in range(_first_year(all_spans), release_year + 1):
            row = {
                "state_iri": state,
                "state_label": ctx.labels.get(state, ""),
                "state_iso3": codes.iso3 if codes else "",
                "state_gw": str(codes.gw) if codes and codes.gw is not None else "",
                "state_cow": str(codes.cow) if codes and codes.cow is not None else "",
                "target_iri": target,
                "target_label": ctx.labels.get(target, ""),
                "target_type": "government" if is_government else "organization",
                "year": str(year),
            }
            for kind, applies in (("designated", not is_government), ("recognized", is_government)):
                status, facts = _status([s for s in mine if s.kind == kind], year)
                row[kind] = status if applies else ""
                row[f"{kind}_facts"] = facts if applies else ""
            rows.append(row)
    return rows


def _status(candidates: list[Span], year: int) -> tuple[str, str]:
    by_status: dict[str, list[str]] = {}
    for span in candidates:
        by_status.setdefault(span.status(year), []).append(span.fact)
    for status in ("yes", "unknown"):
        if status in by_status:
            return status, SEPARATOR.join(sorted(by_status[status]))
    return "no", ""


def panel_table(rows: int) -> Table:
    """The description of the panel CSV."""
    status = "yes / no / unknown (see the codebook); empty when it does not apply to the target."
    facts = f'IRIs of the facts behind a "yes" or "unknown", joined by "{SEPARATOR.strip()}".'
    return Table(
        name=PANEL_NAME,
        path=f"{PANEL_DIR}/{PANEL_NAME}.csv",
        title="Directed dyad-year panel",
        description=(
            "State x target (organization or government) x year, from the first year in the "
            "data to the release year, for the dyads that appear in at least one fact. Also "
            "written as panel/dyad_year.dta (Stata 118) and panel/dyad_year.parquet."
        ),
        fields=(
            Field(
                "state_iri",
                "string",
                "IRI of the state (designating, recognizing or holding a stance).",
            ),
            Field("state_label", "string", "Label of the state."),
            Field("state_iso3", "string", f"ISO 3166-1 alpha-3 of the state ({COCO_SOURCE})."),
            Field("state_gw", "integer", f"Gleditsch-Ward number of the state ({COCO_SOURCE})."),
            Field("state_cow", "integer", f"Correlates of War number of the state ({COW_SOURCE})."),
            Field("target_iri", "string", "IRI of the organization or government."),
            Field("target_label", "string", "Label of the target."),
            Field(
                "target_type",
                "string",
                "organization or government.",
                values=("government", "organization"),
            ),
            Field("year", "integer", "Calendar year."),
            Field(
                "designated",
                "string",
                "Whether the state designated the organization as terrorist on some day of the year: "
                + status,
                str(DK.designatingState),
                STATUSES,
            ),
            Field("designated_facts", "string", facts),
            Field(
                "recognized",
                "string",
                "Whether the state recognized the government on some day of the year: " + status,
                str(DK.recognizingState),
                STATUSES,
            ),
            Field("recognized_facts", "string", facts),
        ),
        primary_key=("state_iri", "target_iri", "year"),
        foreign_keys=(),
        rows=rows,
    )


def _frame(rows: list[dict[str, str]], table: Table) -> pd.DataFrame:
    frame = pd.DataFrame(
        [[row[f.name] for f in table.fields] for row in rows],
        columns=[f.name for f in table.fields],
    )
    frame = frame.sort_values(list(table.primary_key), kind="stable").reset_index(drop=True)
    for f in table.fields:
        if f.type == "integer":
            frame[f.name] = pd.to_numeric(frame[f.name].replace("", None)).astype("Int64")
        else:
            frame[f.name] = frame[f.name].astype(object)
    return frame


def write_panel(store: ox.Store, out_dir: Path, release_date: str) -> Table:
    """Write panel/dyad_year.csv, .dta and .parquet up to the release date's year."""
    stamp = dt.datetime.fromisoformat(release_date)
    rows = panel_rows(store, stamp.year)
    table = panel_table(0)
    count = write_csv(out_dir / table.path, table.fields, rows)
    table = panel_table(count)
    frame = _frame(
        sorted(rows, key=lambda r: (r["state_iri"], r["target_iri"], int(r["year"]))), table
    )
    base = out_dir / PANEL_DIR / PANEL_NAME
    strl = [
        f.name for f in table.fields if f.type == "string" and frame[f.name].str.len().max() > 244
    ]
    stata = frame.copy()
    for f in table.fields:
        if f.type == "integer":
            stata[f.name] = stata[f.name].astype("float64")
    stata.to_stata(
        base.with_suffix(".dta"),
        write_index=False,
        version=118,
        convert_strl=strl,
        time_stamp=stamp,
        data_label="DiploKG dyad-year panel",
        variable_labels={f.name: f.description[:80] for f in table.fields},
    )
    frame.to_parquet(base.with_suffix(".parquet"), index=False, engine="pyarrow")
    return table
