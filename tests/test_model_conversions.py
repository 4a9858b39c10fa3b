"""The conversions every generated model shares (model_base.CytomineModel): what `to_dict()` sends
for a write, and the readers of server JSON. Each model declares only which of its fields are
read-only and which nullable; these tests pin the rules those sets drive."""

from __future__ import annotations

import json

from cytomine_sdk_gen.models.job import Job
from cytomine_sdk_gen.models.job_parameter import JobParameter
from cytomine_sdk_gen.models.project import Project
from cytomine_sdk_gen.models.project_command import ProjectCommand

SERVER_JOB = {
    "id": 7, "class": "be.cytomine.processing.Job", "created": "1718000000000", "updated": None,
    "statusComment": None, "status": 3, "project": 12, "name": "Job 3",
    "jobParameters": [{"id": 1, "name": "threshold", "value": "0.5", "softwareParameter": 4, "uri": None}],
    "params": [{"softwareParameter": 4, "value": "0.7", "uri": None}],
    "newField": {"kept": True},
}


def test_to_dict_leaves_out_read_only_fields_but_keeps_id_and_unknown_ones() -> None:
    job = Job.from_dict(SERVER_JOB)
    assert job is not None
    sent = job.to_dict()
    assert sent["id"] == 7  # read-only, but updates find their object by it
    for read_only in ("class", "created", "name"):
        assert read_only not in sent
    assert sent["newField"] == {"kept": True} and sent["status"] == 3 and sent["project"] == 12


def test_a_nullable_field_set_to_none_is_sent_as_null_and_an_unset_one_is_left_out() -> None:
    job = Job.from_dict(SERVER_JOB)
    assert job is not None
    sent = job.to_dict()
    assert "statusComment" in sent and sent["statusComment"] is None  # the server sent null
    assert "rate" not in sent  # nullable too, never set
    assert "processingServer" not in Job(status=1).to_dict()
    assert Job(status=1, processing_server=None).to_dict() == {"status": 1, "processingServer": None}


def test_nested_models_are_converted_by_the_same_rules() -> None:
    job = Job.from_dict(SERVER_JOB)
    assert job is not None and job.params is not None
    assert isinstance(job.params[0], JobParameter)
    # JobParameter's own rules apply inside: `uri` (read-only) out, `id` kept
    assert job.to_dict()["params"] == [{"softwareParameter": 4, "value": "0.7"}]
    command = ProjectCommand.from_dict({"command": None, "project": {"id": 3, "name": "P", "created": "1"}})
    assert command is not None
    assert command.to_dict() == {"command": None, "project": {"id": 3, "name": "P"}}


def test_readers_and_writers_round_trip() -> None:
    assert Job.from_dict(None) is None and Job.from_json("null") is None
    job = Job.from_json(json.dumps(SERVER_JOB))
    assert job == Job.from_dict(SERVER_JOB)
    assert job is not None and json.loads(job.to_json()) == job.to_dict()
    project = Project(name="P", is_restricted=True)
    assert "'isRestricted': True" in project.to_str() and "'name': 'P'" in project.to_str()
