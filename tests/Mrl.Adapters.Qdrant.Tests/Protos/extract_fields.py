"""Writes the gRPC surface of one Qdrant version as plain lines, for the contract tests.

Usage: python3 extract_fields.py VERSION PROTO_DIR > fields-VERSION.txt
PROTO_DIR is lib/api/src/grpc/proto of the Qdrant repository (https://github.com/qdrant/qdrant, Apache-2.0) at tag
vVERSION. Lines: "rpc qdrant.Service/Method", "field qdrant.Message.field_name", "enum qdrant.Enum.ValueName".
"""
import os
import re
import sys

FILES = ["collections.proto", "collections_service.proto", "points.proto", "points_service.proto",
         "json_with_int.proto", "qdrant_common.proto", "qdrant.proto"]
FIELD = re.compile(r"^(?:optional\s+|repeated\s+)?(map\s*<[^>]*>|[\w.]+)\s+(\w+)\s*=\s*\d+")
ENUM_VALUE = re.compile(r"^(\w+)\s*=\s*-?\d+")
RPC = re.compile(r"^rpc\s+(\w+)\s*\(")


def main(version, root):
    lines = set()
    for name in FILES:
        path = os.path.join(root, name)
        if not os.path.exists(path):
            continue
        text = re.sub(r"//[^\n]*", "", open(path, encoding="utf-8").read())
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        stack = []
        for raw in re.split(r"(?<=[{};])", text):
            statement = raw.strip()
            if not statement:
                continue
            opening = re.match(r"^(message|enum|oneof|service)\s+(\w+)\s*\{$", statement)
            if opening:
                stack.append(opening.groups())
                continue
            if statement == "}":
                stack.pop()
                continue
            rpc = RPC.match(statement)
            if rpc and stack and stack[-1][0] == "service":
                lines.add(f"rpc qdrant.{stack[-1][1]}/{rpc.group(1)}")
                if statement.endswith("{"):
                    stack.append(("other", ""))
                continue
            if statement.endswith("{"):
                stack.append(("other", ""))
                continue
            if not stack:
                continue
            kind = stack[-1][0]
            names = [n for k, n in stack if k in ("message", "enum")]
            if kind == "enum":
                value = ENUM_VALUE.match(statement)
                if value:
                    lines.add(f"enum qdrant.{'.'.join(names)}.{value.group(1)}")
            elif kind in ("message", "oneof") and not re.match(r"^(reserved|option)\b", statement):
                field = FIELD.match(statement)
                if field:
                    lines.add(f"field qdrant.{'.'.join(names)}.{field.group(2)}")
    print(f"# Qdrant {version}: from lib/api/src/grpc/proto at tag v{version} of https://github.com/qdrant/qdrant (Apache-2.0)")
    for line in sorted(lines):
        print(line)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
