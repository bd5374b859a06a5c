"""Checks in-toto Statement v1 documents with a SLSA provenance v1 predicate against the official definitions.

The in-toto attestation framework publishes its Statement, ResourceDescriptor and SLSA provenance v1 predicate as
protobuf messages (PyPI `in-toto-attestation`), not as JSON schemas. Each document is parsed into those messages
with protobuf's JSON parser, which refuses an unknown field, a value of the wrong type and a malformed timestamp;
then the package's own `validate()` rules run, and the SLSA v1 specification's required fields are checked.

Usage: python3 check.py FILE...  (exit 1 naming the file and the problem)
"""

import json
import sys

from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
from in_toto_attestation.v1.statement import Statement

PREDICATE_TYPE = "https://slsa.dev/provenance/v1"


def check(text):
    statement_pb = json_format.Parse(text, statement_pb2.Statement())
    statement = Statement.copy_from_pb(statement_pb)
    statement.validate()
    if statement_pb.predicate_type != PREDICATE_TYPE:
        raise ValueError("predicateType is not " + PREDICATE_TYPE)
    predicate = json.loads(text)["predicate"]
    prov = json_format.ParseDict(predicate, provenance_pb2.Provenance())
    definition = prov.build_definition
    if not definition.build_type:
        raise ValueError("buildDefinition.buildType is required")
    if not definition.HasField("external_parameters"):
        raise ValueError("buildDefinition.externalParameters is required")
    for dependency in definition.resolved_dependencies:
        ResourceDescriptor.copy_from_pb(dependency).validate()
    if not prov.run_details.builder.id:
        raise ValueError("runDetails.builder.id is required")
    for subject in statement_pb.subject:
        for algorithm, value in subject.digest.items():
            if algorithm == "sha256" and (len(value) != 64 or value.strip("0123456789abcdef")):
                raise ValueError("subject digest sha256 is not 64 lowercase hex digits")


def main():
    failed = False
    for path in sys.argv[1:]:
        try:
            with open(path, encoding="utf-8") as f:
                check(f.read())
            print(f"ok: {path}")
        except Exception as error:  # every failure is reported the same way
            print(f"{path}: {error}", file=sys.stderr)
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
