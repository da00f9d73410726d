"""People CSVs exported from HR systems: their column names are recognised, a mapping
file names the rest, and a file missing a required column is refused whole."""

import pytest
from conftest import write

from indexer.errors import IngestError
from ingest.hr import column_fields, read_map
from ingest.readers import iter_file
from ingest.readers.base import Problem


def people(path, people_map=None):
    return list(iter_file(path, path.name, people=True, people_map=people_map))


def test_workday_columns_are_recognised(tmp_path):
    path = write(tmp_path, "workday.csv",
                 "Employee ID,Preferred Name,Work Email,Business Title,Supervisory "
                 "Organization,Work Location,Supervisor ID,Time Zone\n"
                 "E100,Jane Doe,jane@acme.com,Data Engineer,Data Platform,Berlin,E001,"
                 "Europe/Berlin\n")
    [jane] = people(path)
    assert (jane.id, jane.name, jane.email, jane.title, jane.department, jane.location,
            jane.manager_id, jane.timezone) == (
        "E100", "Jane Doe", "jane@acme.com", "Data Engineer", "Data Platform", "Berlin",
        "E001", "Europe/Berlin")


def test_bamboohr_first_and_last_name_make_the_name(tmp_path):
    path = write(tmp_path, "bamboo.csv",
                 "Employee #,First Name,Last Name,Email,Job Title,Department,Reports To\n"
                 "17,Omar,Haddad,omar@acme.com,SRE,Platform,Jane Doe\n")
    with pytest.raises(IngestError, match="no id column"):
        people(path)  # "Employee #" is no name we know: named in a map instead
    [omar] = people(path, {"id": "Employee #"})
    assert (omar.id, omar.name, omar.department, omar.manager_id) == (
        "17", "Omar Haddad", "Platform", None)  # "Reports To" holds a name, not an id


def test_a_missing_column_is_one_error_naming_it_and_no_row_is_read(tmp_path):
    path = write(tmp_path, "hr.csv", "Employee ID,Work Email\nE1,a@acme.com\nE2,b@acme.com\n")
    with pytest.raises(IngestError, match="no name column") as caught:
        people(path)
    assert "--people-map" in caught.value.hint


def test_a_people_map_names_unknown_columns_and_is_checked(tmp_path):
    path = write(tmp_path, "hr.csv", "Personalnummer,Anzeigename,Mail\nP7,Lena Vogel,l@acme.de\n")
    mapping = write(tmp_path, "map.yaml", "id: Personalnummer\nname: Anzeigename\n"
                                          "email: Mail\n")
    [lena] = people(path, read_map(mapping))
    assert (lena.id, lena.name, lena.email) == ("P7", "Lena Vogel", "l@acme.de")
    with pytest.raises(IngestError, match="no field nickname"):
        read_map(write(tmp_path, "bad.yaml", "nickname: Spitzname\n"))
    with pytest.raises(IngestError, match="no such column"):
        column_fields(["Personalnummer", "Anzeigename"], {"email": "E-Mail-Adresse"})


def test_our_own_people_csv_reads_as_before(tmp_path):
    path = write(tmp_path, "people.csv",
                 "id,name,email,skills,mentoring_available,aliases\n"
                 "p-li,Li Wei,li@acme.com,Kafka:5;Python:4,yes,U024BE7LH\n")
    [li] = people(path)
    assert (li.id, li.name, [s.name for s in li.skills], li.mentoring_available,
            li.aliases) == ("p-li", "Li Wei", ["Kafka", "Python"], True, ("U024BE7LH",))


def test_a_bad_row_is_reported_and_the_rest_read(tmp_path):
    path = write(tmp_path, "hr.csv", "Employee ID,Full Name,Seniority\nE1,Ann,x\nE2,Bo,3\n")
    found = people(path)
    assert [type(f).__name__ for f in found] == ["Problem", "Person"]
    assert isinstance(found[0], Problem) and found[0].line == 2
