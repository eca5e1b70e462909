"""Bibliographic records: every source of every registered constraint has a full BibTeX entry.

``zprime_atlas/data/references.bib`` holds the records Darkcast keeps with its limits;
``references_extra.bib`` the records of every other source, each field read from the page named in
the ``% read from:`` line above the entry (issue 17). ``zprime-atlas cite`` prints a marked stub only
for the citations listed in ``ALLOWED_STUBS``.
"""

from __future__ import annotations

import re

import pytest

import zprime_atlas as za
from zprime_atlas import references

#: Citations that may still print the stub, each with the reason no record was built.
ALLOWED_STUBS = {
    "1504.00711": (
        "Kamada & Yu, cited by borexino as literature: no abstract page, publisher page or "
        "reference record of it was found in the stored corpora, so no field could be read"
    ),
}

#: Entries of references_extra.bib with neither author nor collaboration, each with the reason.
NO_AUTHORS = {
    "arXiv:2304.12907": "the stored pages (arcxiv, arxivlens) give title and abstract only",
}

#: Darkcast records of CMS physics-analysis summaries: a report number, no eprint and no doi.
DARKCAST_REPORT_ONLY = {"CMS:2016tgd", "CMS:2018rdr", "CMS:2019kiy"}

_STUB_MARK = "zprime-atlas has no full record of this source"
_FIELD = re.compile(r"\s*([A-Za-z]+)\s*=\s*")


def _files() -> dict[str, list[tuple[str, str | None, str]]]:
    return {name: references._parse(references._read(name)) for name in references._FILES}


def _fields(entry: str) -> dict[str, str]:
    """Fields of one entry, parsed strictly: braces balance, every value is closed, nothing is left."""
    head = re.match(r"@(\w+)\{\s*([^,\s]+)\s*,", entry)
    assert head, f"no '@type{{key,' head: {entry[:60]!r}"
    body, pos, fields = entry, head.end(), {}
    while True:
        while pos < len(body) and body[pos] in " \t\r\n,":
            pos += 1
        if body[pos:].strip() == "}":
            return fields
        name = _FIELD.match(body, pos)
        assert name, f"{head.group(2)}: cannot read a field at {body[pos:pos + 40]!r}"
        pos = name.end()
        opener = body[pos]
        assert opener in '"{', f"{head.group(2)}: {name.group(1)} is not quoted or braced"
        depth, start = 0, pos
        pos += 1
        while True:
            assert pos < len(body), f"{head.group(2)}: {name.group(1)} is never closed"
            char = body[pos]
            if char == "\\":
                pos += 2
                continue
            if char == "{":
                depth += 1
            elif char == "}":
                if depth == 0:
                    assert opener == "{", f"{head.group(2)}: unbalanced '}}' in {name.group(1)}"
                    break
                depth -= 1
            elif char == '"' and opener == '"' and depth == 0:
                break
            pos += 1
        assert depth == 0, f"{head.group(2)}: unbalanced braces in {name.group(1)}"
        fields[name.group(1).lower()] = body[start + 1 : pos]
        pos += 1


def test_every_citation_of_every_constraint_has_a_full_entry() -> None:
    cited: set[str] = set()
    missing: list[str] = []
    for name in za.constraints.names(superseded=True):
        for citation in za.constraints.get(name).citation:
            cited.add(citation)
            (entry,) = references.bibtex([citation])
            if citation in ALLOWED_STUBS:
                assert _STUB_MARK in entry, f"{citation} has a record now: drop it from ALLOWED_STUBS"
            elif _STUB_MARK in entry:
                missing.append(f"{name}: {citation}")
    assert not missing, "citations without a full BibTeX record:\n" + "\n".join(missing)
    assert set(ALLOWED_STUBS) <= cited, "ALLOWED_STUBS lists citations no constraint makes"
    assert all(reason.strip() for reason in ALLOWED_STUBS.values())


@pytest.mark.parametrize("name", references._FILES)
def test_every_entry_parses_and_has_title_and_identifier(name: str) -> None:
    entries = references._parse(references._read(name))
    assert entries
    for key, eprint, entry in entries:
        fields = _fields(entry)
        assert fields.get("title", "").strip(), f"{name}: {key} has no title"
        identified = fields.get("eprint") or fields.get("doi")
        if name == "references.bib" and key in DARKCAST_REPORT_ONLY:
            identified = fields.get("reportnumber")  # CMS public analysis notes: no eprint, no doi
        assert identified, f"{name}: {key} has neither eprint nor doi"
        if eprint is not None:
            assert fields["eprint"].strip() == eprint


def test_no_key_or_eprint_is_repeated_within_or_across_the_files() -> None:
    keys: dict[str, str] = {}
    eprints: dict[str, str] = {}
    for name, entries in _files().items():
        for key, eprint, _ in entries:
            assert key not in keys, f"key {key} is in {keys.get(key)} and {name}"
            keys[key] = name
            if eprint is not None:
                assert eprint not in eprints, f"eprint {eprint} is in {eprints.get(eprint)} and {name}"
                eprints[eprint] = name


def test_extra_entries_say_where_they_were_read() -> None:
    text = references._read("references_extra.bib")
    lines = text.splitlines()
    heads = [i for i, line in enumerate(lines) if line.startswith("@")]
    assert heads
    for i in heads:
        comments = []
        j = i - 1
        while j >= 0 and lines[j].startswith("%"):
            comments.append(lines[j])
            j -= 1
        assert any(c.startswith("% read from: ") for c in comments), f"no source line: {lines[i]}"


def test_extra_entries_follow_the_key_rule_and_name_their_authors() -> None:
    for key, eprint, entry in references._parse(references._read("references_extra.bib")):
        fields = _fields(entry)
        if key.startswith("arXiv:"):
            assert key == f"arXiv:{eprint}", f"{key}: an arXiv key must be the entry's eprint"
        else:
            assert re.fullmatch(r"[A-Za-z-]+:\d{4}[a-z]{2,3}", key), f"{key} is not INSPIRE-style"
        has_authors = bool(fields.get("author") or fields.get("collaboration"))
        assert has_authors != (key in NO_AUTHORS), f"{key}: author/collaboration vs NO_AUTHORS"


def test_darkcast_file_wins_and_stub_stays_honest() -> None:
    by_key, by_eprint = references._entries()
    darkcast = references._parse(references._read("references.bib"))
    for key, eprint, entry in darkcast:
        assert by_key[key] == entry
        if eprint is not None:
            assert by_eprint[eprint] == key
    (stub,) = references.bibtex(["9999.99999"])
    assert _STUB_MARK in stub
    assert "eprint = {9999.99999}" in stub
    (merkel,) = references.bibtex(["INSPIRE Merkel:2011ze"])
    assert merkel.startswith("@article{Merkel:2011ze,")
    assert "1101.4091" in merkel
