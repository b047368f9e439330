"""The baseline's second step: a plain boto3 `upload_file` (s3transfer's defaults).

python bench/baseline_upload.py FILE BUCKET KEY ENDPOINT
"""

from __future__ import annotations

import sys

from devstack.services import s3_client


def main(path: str, bucket: str, key: str, endpoint: str) -> int:
    client = s3_client(endpoint)
    client.upload_file(path, bucket, key)
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
